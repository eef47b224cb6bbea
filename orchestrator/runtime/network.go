package runtime

// NetworkSpec is a tenant's bridge network. Subnet is an IPv4 prefix from
// appfactory's own pool: the engine's default pools hold only about thirty
// user networks.
type NetworkSpec struct {
	Name   string
	Subnet string
	// Internal networks have no route out of the host; the host still reaches
	// their containers.
	Internal bool
	Labels   map[string]string
}

// Network is a network as the engine reports it.
type Network struct {
	ID       string
	Name     string
	Labels   map[string]string
	Subnet   string
	Gateway  string
	Internal bool
}

// VolumeSpec is a named local volume.
type VolumeSpec struct {
	Name   string
	Labels map[string]string
}

// Volume is a volume as the engine reports it.
type Volume struct {
	Name   string
	Labels map[string]string
}
