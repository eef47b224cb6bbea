package docker

import (
	"context"
	"errors"
	"testing"

	"github.com/docker/docker/api/types/network"

	"appfactory/orchestrator/runtime"
)

func TestNetworkEnsureAdoptRemove(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	for _, internal := range []bool{false, true} {
		suffix := "net-egress"
		if internal {
			suffix = "net-internal"
		}
		t.Run(suffix, func(t *testing.T) {
			name, id, subnet := e.network(t, suffix, internal)

			n, err := e.d.InspectNetwork(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if n.ID != id || n.Name != name || n.Subnet != subnet.String() || n.Internal != internal || n.Labels[testLabel] != e.id {
				t.Errorf("inspect = %+v, want id %s subnet %s internal %v", n, id, subnet, internal)
			}
			raw, err := e.d.cli.NetworkInspect(ctx, id, network.InspectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if raw.Driver != "bridge" || raw.Options["com.docker.network.bridge.enable_icc"] != "true" {
				t.Errorf("driver %q options %v, want bridge with icc", raw.Driver, raw.Options)
			}

			// The same name again, even with another subnet, adopts the network.
			again, err := e.d.EnsureNetwork(ctx, NetworkSpec{Name: name, Subnet: randomSubnet().String(), Internal: internal, Labels: e.labels})
			if err != nil || again != id {
				t.Fatalf("ensure again = %q, %v; want %q", again, err, id)
			}

			list, err := e.d.ListNetworks(ctx, map[string]string{testLabel: e.id, "appfactory.test": ""})
			if err != nil {
				t.Fatal(err)
			}
			if !hasNetwork(list, id) {
				t.Errorf("list by label misses %s: %+v", name, list)
			}

			// Another network on the same subnet is refused as an overlap.
			other := e.name(suffix + "-other")
			_, err = e.d.EnsureNetwork(ctx, NetworkSpec{Name: other, Subnet: subnet.String(), Labels: e.labels})
			if !errors.Is(err, ErrSubnetOverlap) {
				_ = e.d.RemoveNetwork(ctx, other)
				t.Errorf("overlapping subnet: err = %v, want ErrSubnetOverlap", err)
			}

			for range 2 {
				if err := e.d.RemoveNetwork(ctx, name); err != nil {
					t.Fatalf("remove: %v", err)
				}
			}
			if _, err := e.d.InspectNetwork(ctx, name); !errors.Is(err, runtime.ErrNotFound) {
				t.Errorf("inspect removed network: err = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestEnsureNetworkRejectsBadSpecs(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, tc := range []struct{ name, spec, subnet string }{
		{"empty name", "", "10.213.0.0/28"},
		{"no subnet", "x", ""},
		{"not a prefix", "x", "10.213.0.1"},
		{"host bits set", "x", "10.213.0.5/28"},
		{"ipv6", "x", "fd00::/64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := tc.spec
			if name != "" {
				name = e.name(name)
			}
			if id, err := e.d.EnsureNetwork(context.Background(), NetworkSpec{Name: name, Subnet: tc.subnet, Labels: e.labels}); err == nil {
				_ = e.d.RemoveNetwork(context.Background(), id)
				t.Fatal("accepted")
			}
		})
	}
}

func TestVolumeEnsureRemove(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	name := e.volume(t, "vol")
	if err := e.d.EnsureVolume(ctx, VolumeSpec{Name: name, Labels: e.labels}); err != nil {
		t.Fatalf("ensure again: %v", err)
	}
	list, err := e.d.ListVolumes(ctx, map[string]string{testLabel: e.id})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != name || list[0].Labels["appfactory.test"] != "1" {
		t.Errorf("list = %+v, want only %s", list, name)
	}
	for range 2 {
		if err := e.d.RemoveVolume(ctx, name); err != nil {
			t.Fatalf("remove: %v", err)
		}
	}
	if list, err := e.d.ListVolumes(ctx, map[string]string{testLabel: e.id}); err != nil || len(list) != 0 {
		t.Errorf("after remove: %+v %v", list, err)
	}
	for _, bad := range []string{"", "a", "/etc", "../x", "-x", "x/y", "x y"} {
		if err := e.d.EnsureVolume(ctx, VolumeSpec{Name: bad, Labels: e.labels}); err == nil {
			_ = e.d.RemoveVolume(ctx, bad)
			t.Errorf("EnsureVolume(%q) accepted", bad)
		}
	}
}

func hasNetwork(list []Network, id string) bool {
	for _, n := range list {
		if n.ID == id {
			return true
		}
	}
	return false
}
