package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"

	"appfactory/orchestrator/runtime"
)

// tenantImagePrefix starts every tenant image tag (factory.ImageTag): only those
// are ever removed by the reconciler, never a platform's base image.
const tenantImagePrefix = "appfactory/tenant-"

// imageHolds protects the images passes are using from removal: a pass
// holds a tag before it looks the image up and until it ends, and an image
// is removed only while nobody holds it, so a pass never finds an image
// that then vanishes before its containers are created.
type imageHolds struct {
	mu   sync.Mutex // held across the engine's removal call
	held map[string]int
	// builds is read-locked by every build and locked by a removal: the
	// engine removes an image with its untagged parents, the cached steps
	// a build running at the same time may be reusing.
	builds sync.RWMutex
}

func newImageHolds() *imageHolds { return &imageHolds{held: map[string]int{}} }

func (h *imageHolds) lock()   { h.mu.Lock() }
func (h *imageHolds) unlock() { h.mu.Unlock() }

// hold marks a tag as in use by a pass.
func (h *imageHolds) hold(ref string) {
	h.lock()
	h.held[ref]++
	h.unlock()
}

// release ends holds taken with hold.
func (h *imageHolds) release(refs []string) {
	h.lock()
	for _, ref := range refs {
		if h.held[ref]--; h.held[ref] <= 0 {
			delete(h.held, ref)
		}
	}
	h.unlock()
}

// holdImage holds a tag for the rest of the pass.
func (p *pass) holdImage(ref string) {
	if ref == "" {
		return
	}
	p.r.images.hold(ref)
	p.held = append(p.held, ref)
}

// dropImage notes an image the pass stopped using (its containers were
// replaced or removed): once the pass ends, it is removed if no tenant uses
// it any more.
func (p *pass) dropImage(ref string) {
	if strings.HasPrefix(ref, tenantImagePrefix) {
		p.dropped = append(p.dropped, ref)
	}
}

// removeUnusedImages removes tenant images that no tenant of this instance
// records and no pass holds. The engine itself refuses to remove an image
// that any container was created from (another instance's included), so a
// refusal only means the image is still in use.
func (r *Reconciler) removeUnusedImages(ctx context.Context, refs []string) {
	seen := map[string]bool{}
	for _, ref := range refs {
		if seen[ref] || !strings.HasPrefix(ref, tenantImagePrefix) {
			continue
		}
		seen[ref] = true
		r.removeUnusedImage(ctx, ref)
	}
}

func (r *Reconciler) removeUnusedImage(ctx context.Context, ref string) {
	r.images.lock()
	defer r.images.unlock()
	if r.images.held[ref] > 0 {
		return
	}
	n, err := r.db.ImageUsers(ctx, ref)
	if err != nil || n > 0 {
		return
	}
	r.images.builds.Lock()
	err = r.rt.RemoveImage(ctx, ref)
	r.images.builds.Unlock()
	if err != nil {
		if !errors.Is(err, runtime.ErrConflict) {
			r.log.Warn("remove unused image", slog.String("image", ref), slog.Any("err", err))
		}
		return
	}
	r.log.Info("removed image no tenant uses", slog.String("image", ref))
}
