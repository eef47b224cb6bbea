package swarm

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/swarm"

	"appfactory/orchestrator/docker"
)

// Active reports whether the engine is a manager of an active swarm.
func Active(ctx context.Context, d *docker.Docker) (bool, error) {
	info, err := d.Client().Info(ctx)
	if err != nil {
		return false, fmt.Errorf("docker info: %w", err)
	}
	return info.Swarm.LocalNodeState == swarm.LocalNodeStateActive && info.Swarm.ControlAvailable, nil
}

// Init makes the engine the only manager of a new swarm, listening and
// advertising on addr (127.0.0.1 keeps a one-node swarm off every other
// interface).
func Init(ctx context.Context, d *docker.Docker, addr string) error {
	_, err := d.Client().SwarmInit(ctx, swarm.InitRequest{ListenAddr: addr + ":2377", AdvertiseAddr: addr})
	return docker.Wrap(err, "swarm init")
}

// Leave takes the engine out of its swarm, forcing it when it is the last
// manager: the swarm's services go with it.
func Leave(ctx context.Context, d *docker.Docker) error {
	return docker.Wrap(d.Client().SwarmLeave(ctx, true), "swarm leave")
}

// RemoveServices removes every service that carries labels (tests sweep
// theirs with it) and returns how many it removed.
func RemoveServices(ctx context.Context, d *docker.Docker, labels map[string]string) (int, error) {
	ss, err := d.Client().ServiceList(ctx, types.ServiceListOptions{Filters: labelArgs(labels)})
	if err != nil {
		return 0, docker.Wrap(err, "list services")
	}
	for _, s := range ss {
		if err := d.Client().ServiceRemove(ctx, s.ID); err != nil {
			return 0, docker.Wrap(err, "remove service %s", s.Spec.Name)
		}
	}
	return len(ss), nil
}
