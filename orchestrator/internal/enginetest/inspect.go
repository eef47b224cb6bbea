package enginetest

import (
	"context"
	"encoding/json"

	"appfactory/orchestrator/docker"
)

// EngineContainer is the part of the engine's own inspect document that
// the hardening checks read (docker.Container leaves it out on purpose).
type EngineContainer struct {
	HostConfig struct {
		Memory, MemorySwap, NanoCPUs int64
		PidsLimit                    *int64
		CapDrop, SecurityOpt         []string
		ReadonlyRootfs, Privileged   bool
		PublishAllPorts              bool
		Tmpfs                        map[string]string
		PortBindings                 map[string]any
		NetworkMode, PidMode         string
		IpcMode, UTSMode             string
		LogConfig                    struct {
			Type   string
			Config map[string]string
		}
		RestartPolicy struct{ Name string }
	}
	Mounts []struct{ Type, Source string }
	Config struct {
		Labels map[string]string
		User   string
	}
	NetworkSettings struct {
		Networks map[string]struct{ Aliases []string }
	}
}

// Inspect reads a container's inspect document from the engine.
func Inspect(ctx context.Context, d *docker.Docker, id string) (EngineContainer, error) {
	var c EngineContainer
	raw, err := d.InspectRaw(ctx, id)
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(raw, &c)
}
