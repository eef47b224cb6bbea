package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"appfactory/domain"
	"appfactory/orchestrator/runtime"
	"appfactory/store"
)

// buildLogFlush is how often streamed build output is written to the
// builds table, so the tenant page shows it while the build runs.
const buildLogFlush = 250 * time.Millisecond

// ensureImage makes sure the tenant's image exists: the recorded tag when it
// is still on the host, else the content-addressed tag of its assembly,
// reused if an identical assembly was built before, built otherwise.
func (p *pass) ensureImage(ctx context.Context) error {
	t := p.t
	if t.Image != "" {
		p.holdImage(t.Image)
		if _, ok, err := p.r.rt.ImageID(ctx, t.Image); err != nil {
			return runtime.StepFailed(err, "Looking up image %s failed", t.Image)
		} else if ok {
			return nil
		}
	}
	in, err := p.r.opts.Blueprints.BuildInput(ctx, t)
	if err != nil {
		return runtime.StepFailed(err, "Preparing the image build failed")
	}
	plan, err := p.r.factory.Plan(ctx, in)
	if err != nil {
		return runtime.StepFailed(err, "Preparing the image build failed")
	}
	p.holdImage(plan.Tag)
	if _, ok, err := p.r.rt.ImageID(ctx, plan.Tag); err != nil {
		return runtime.StepFailed(err, "Looking up image %s failed", plan.Tag)
	} else if ok {
		if err := p.r.db.SetTenantImage(ctx, t.ID, plan.Tag); err != nil {
			return err
		}
		t.Image = plan.Tag
		if id, err := p.r.db.StartBuild(ctx, t.ID, plan.Tag, t.Generation); err == nil {
			_ = p.r.db.AppendBuildLog(ctx, id, "Image "+plan.Tag+" already exists for this exact assembly: reused, nothing to build.\n")
			_ = p.r.db.FinishBuild(ctx, id, store.BuildReused)
		}
		p.r.opts.Metrics.BuildDone(store.BuildReused)
		p.event(ctx, domain.EventBuild, "Reused image %s (an identical assembly was built before)", plan.Tag)
		return nil
	}

	if t.State != domain.StateFailed || t.Failures == 0 {
		if err := p.r.db.SetTenantState(ctx, t.ID, domain.StateBuilding, "building image "+plan.Tag); err != nil {
			return err
		}
		t.State = domain.StateBuilding
	}
	p.r.failpoint("before-build")
	buildID, err := p.r.db.StartBuild(ctx, t.ID, plan.Tag, t.Generation)
	if err != nil {
		return err
	}
	started := time.Now()
	bl := &buildLog{r: p.r, ctx: ctx, buildID: buildID, tenantID: t.ID}
	stop := bl.run()
	_ = p.r.db.AppendBuildLog(ctx, buildID, "Dockerfile:\n"+indent(plan.Dockerfile)+"\n")
	p.r.images.builds.RLock()
	reused, err := p.r.factory.Build(ctx, plan, bl.line)
	p.r.images.builds.RUnlock()
	stop()
	if err != nil {
		_ = p.r.db.FinishBuild(ctx, buildID, store.BuildFailed)
		p.r.opts.Metrics.BuildDone(store.BuildFailed)
		var be *runtime.BuildError
		if errors.As(err, &be) {
			_ = p.r.db.AppendBuildLog(ctx, buildID, "ERROR: "+be.Msg+"\n")
			p.event(ctx, domain.EventBuild, "Build of %s failed: %s", plan.Tag, be.Msg)
			return err
		}
		return runtime.StepFailed(err, "Building image %s failed", plan.Tag)
	}
	result := store.BuildOK
	if reused {
		result = store.BuildReused
	}
	_ = p.r.db.FinishBuild(ctx, buildID, result)
	p.r.opts.Metrics.BuildDone(result)
	if err := p.r.db.SetTenantImage(ctx, t.ID, plan.Tag); err != nil {
		return err
	}
	t.Image = plan.Tag
	p.event(ctx, domain.EventBuild, "Built image %s in %.1f s", plan.Tag, time.Since(started).Seconds())
	p.r.failpoint("after-build")
	return nil
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}

// buildLog streams build output into the builds table in batches, and
// turns each "Step n/m" line into a tenant event.
type buildLog struct {
	r        *Reconciler
	ctx      context.Context
	buildID  int64
	tenantID string

	mu  sync.Mutex
	buf strings.Builder
}

func (b *buildLog) line(l string) {
	b.mu.Lock()
	b.buf.WriteString(l)
	b.buf.WriteByte('\n')
	b.mu.Unlock()
	if strings.HasPrefix(l, "Step ") {
		msg := l
		if len(msg) > 160 {
			msg = msg[:160] + "…"
		}
		b.r.event(b.ctx, b.tenantID, domain.EventBuild, "build: %s", msg)
	}
}

func (b *buildLog) flush() {
	b.mu.Lock()
	s := b.buf.String()
	b.buf.Reset()
	b.mu.Unlock()
	if s == "" {
		return
	}
	if err := b.r.db.AppendBuildLog(b.ctx, b.buildID, s); err != nil && b.ctx.Err() == nil {
		b.r.log.Warn("write build log", slog.Int64("build", b.buildID), slog.Any("err", err))
	}
}

// run flushes periodically until the returned stop is called, which
// flushes what is left.
func (b *buildLog) run() (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(buildLogFlush)
		defer t.Stop()
		for {
			select {
			case <-done:
				b.flush()
				return
			case <-t.C:
				b.flush()
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
