package docker

import (
	"context"
	"fmt"
	"net/netip"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"

	"appfactory/orchestrator/runtime"
)

// EnsureNetwork creates the bridge network, or adopts an existing network of
// the same name as it is and returns its id (InspectNetwork shows its
// subnet and whether it is internal). A subnet that overlaps another network
// gives an error matching ErrSubnetOverlap, so the caller can pick another.
func (d *Docker) EnsureNetwork(ctx context.Context, spec NetworkSpec) (string, error) {
	if spec.Name == "" {
		return "", fmt.Errorf("create network: empty name")
	}
	prefix, err := netip.ParsePrefix(spec.Subnet)
	if err != nil || !prefix.Addr().Is4() || prefix != prefix.Masked() {
		return "", fmt.Errorf("create network %s: subnet %q is not an IPv4 network prefix", spec.Name, spec.Subnet)
	}
	resp, err := d.cli.NetworkCreate(ctx, spec.Name, network.CreateOptions{
		Driver:   "bridge",
		Internal: spec.Internal,
		IPAM: &network.IPAM{
			Driver: "default",
			Config: []network.IPAMConfig{{Subnet: prefix.String()}},
		},
		Options: map[string]string{
			// Containers of one tenant talk to each other (web to store).
			"com.docker.network.bridge.enable_icc": "true",
		},
		Labels: spec.Labels,
	})
	switch {
	case err == nil:
		return resp.ID, nil
	case cerrdefs.IsConflict(err):
		n, ierr := d.InspectNetwork(ctx, spec.Name)
		if ierr != nil {
			return "", fmt.Errorf("adopt network %s: %w", spec.Name, ierr)
		}
		if n.Name != spec.Name {
			return "", fmt.Errorf("adopt network %s: engine answered network %s: %w", spec.Name, n.Name, runtime.ErrConflict)
		}
		return n.ID, nil
	case isSubnetOverlap(err):
		return "", fmt.Errorf("create network %s with subnet %s: %w (%w)", spec.Name, prefix, ErrSubnetOverlap, err)
	}
	return "", wrap(err, "create network %s", spec.Name)
}

// InspectNetwork returns one network by name or id.
func (d *Docker) InspectNetwork(ctx context.Context, nameOrID string) (Network, error) {
	n, err := d.cli.NetworkInspect(ctx, nameOrID, network.InspectOptions{})
	if err != nil {
		return Network{}, wrap(err, "inspect network %s", nameOrID)
	}
	return networkFrom(n.ID, n.Name, n.Labels, n.IPAM, n.Internal), nil
}

// RemoveNetwork removes a network; a missing one is already removed.
func (d *Docker) RemoveNetwork(ctx context.Context, nameOrID string) error {
	err := d.cli.NetworkRemove(ctx, nameOrID)
	if err == nil || cerrdefs.IsNotFound(err) {
		return nil
	}
	return wrap(err, "remove network %s", nameOrID)
}

// ListNetworks lists the networks carrying all the given labels.
func (d *Docker) ListNetworks(ctx context.Context, labels map[string]string) ([]Network, error) {
	list, err := d.cli.NetworkList(ctx, network.ListOptions{Filters: labelFilters(labels)})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	out := make([]Network, 0, len(list))
	for _, n := range list {
		out = append(out, networkFrom(n.ID, n.Name, n.Labels, n.IPAM, n.Internal))
	}
	return out, nil
}

func networkFrom(id, name string, labels map[string]string, ipam network.IPAM, internal bool) Network {
	n := Network{ID: id, Name: name, Labels: labels, Internal: internal}
	for _, c := range ipam.Config {
		if p, err := netip.ParsePrefix(c.Subnet); err == nil && p.Addr().Is4() {
			n.Subnet, n.Gateway = c.Subnet, c.Gateway
			break
		}
	}
	return n
}

// EnsureVolume creates a local volume; the engine answers an existing one of
// the same name as created, keeping its data and labels.
func (d *Docker) EnsureVolume(ctx context.Context, spec VolumeSpec) error {
	if !validVolumeName(spec.Name) {
		return fmt.Errorf("create volume: invalid name %q", spec.Name)
	}
	_, err := d.cli.VolumeCreate(ctx, volume.CreateOptions{Name: spec.Name, Driver: "local", Labels: spec.Labels})
	return wrap(err, "create volume %s", spec.Name)
}

// RemoveVolume removes a volume and its data; a missing one is already removed.
func (d *Docker) RemoveVolume(ctx context.Context, name string) error {
	err := d.cli.VolumeRemove(ctx, name, false)
	if err == nil || cerrdefs.IsNotFound(err) {
		return nil
	}
	return wrap(err, "remove volume %s", name)
}

// ListVolumes lists the volumes carrying all the given labels.
func (d *Docker) ListVolumes(ctx context.Context, labels map[string]string) ([]Volume, error) {
	resp, err := d.cli.VolumeList(ctx, volume.ListOptions{Filters: labelFilters(labels)})
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	out := make([]Volume, 0, len(resp.Volumes))
	for _, v := range resp.Volumes {
		out = append(out, Volume{Name: v.Name, Labels: v.Labels})
	}
	return out, nil
}

// validVolumeName accepts the engine's named-volume names only, so a host
// path can never be passed off as a volume.
func validVolumeName(name string) bool {
	if len(name) < 2 {
		return false
	}
	for i, r := range name {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !alnum && (i == 0 || r != '_' && r != '.' && r != '-') {
			return false
		}
	}
	return true
}
