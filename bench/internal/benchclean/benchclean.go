// Package benchclean removes what a bench command made on the engine.
package benchclean

import (
	"context"
	"log/slog"
	"os"
	"sync"

	"appfactory/orchestrator/docker"
	"appfactory/store"
)

// Label marks every object a bench makes, with the bench run's id.
const Label = "appfactory.bench"

// Remove removes every container (eight at a time), network and volume
// labelled for the bench run id, and the images its database built; then
// closes the engine client and the database and removes dir. Each of d,
// db and dir may be missing (a bench that failed early).
func Remove(ctx context.Context, d *docker.Docker, db *store.DB, dir, id string, logger *slog.Logger) {
	if d != nil {
		only := map[string]string{Label: id}
		cs, _ := d.ListContainers(ctx, only, true)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for _, c := range cs {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				_ = d.RemoveContainer(ctx, c.ID)
			}()
		}
		wg.Wait()
		ns, _ := d.ListNetworks(ctx, only)
		for _, n := range ns {
			_ = d.RemoveNetwork(ctx, n.ID)
		}
		vs, _ := d.ListVolumes(ctx, only)
		for _, v := range vs {
			_ = d.RemoveVolume(ctx, v.Name)
		}
		if db != nil {
			tags, _ := db.ImageTags(ctx)
			for _, tag := range tags {
				if err := d.RemoveImage(ctx, tag); err != nil {
					logger.Warn("remove bench image", slog.String("tag", tag), slog.Any("err", err))
				}
			}
		}
		d.Close()
	}
	if db != nil {
		db.Close()
	}
	if dir != "" {
		os.RemoveAll(dir)
	}
}
