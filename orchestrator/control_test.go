package orchestrator

import (
	"context"
	"slices"
	"sync"
	"testing"

	"appfactory/apperr"
	"appfactory/domain"
	"appfactory/orchestrator/route"
	"appfactory/store"
)

// wakeLog records wakes.
type wakeLog struct {
	mu  sync.Mutex
	ids []string
}

func (w *wakeLog) Wake(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ids = append(w.ids, id)
}

func TestControlWritesDesiredStateAndWakes(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	admin := &store.User{Email: "admin@example.com", Name: "Admin", PasswordHash: "x", Role: store.RoleAdmin}
	if err := db.CreateUser(ctx, admin); err != nil {
		t.Fatal(err)
	}
	app := &store.App{OwnerID: admin.ID, Name: "A", Platform: "contentapp", Version: "1.0", Environment: "trial"}
	if err := db.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	tn := &store.Tenant{AppID: app.ID, OwnerID: admin.ID, CreatedBy: admin.ID, Slug: "a", Platform: "contentapp", Version: "1.0", Environment: "trial", Replicas: 1}
	if err := db.CreateTenant(ctx, tn, 0); err != nil {
		t.Fatal(err)
	}
	w := &wakeLog{}
	c := &Control{DB: db, Waker: w, Service: &Service{DB: db, Reconciler: w, Routes: route.NewRoutes()}}
	if err := c.Passivate(ctx, tn.ID, "passivated by admin@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := c.Passivate(ctx, tn.ID, "again"); err != nil {
		t.Fatal(err)
	}
	got, _ := db.TenantByID(ctx, tn.ID)
	if got.DesiredState != domain.DesiredPassivated {
		t.Errorf("desired %s", got.DesiredState)
	}
	if err := c.Delete(ctx, tn.ID, admin.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.Passivate(ctx, tn.ID, "late"); apperr.Code(err) != apperr.Conflict {
		t.Errorf("passivating a deleted tenant: %v", err)
	}
	got, _ = db.TenantByID(ctx, tn.ID)
	if got.DesiredState != domain.DesiredDeleted {
		t.Errorf("desired %s after delete", got.DesiredState)
	}
	if !slices.Equal(w.ids, []string{tn.ID, tn.ID}) {
		t.Errorf("wakes %v", w.ids)
	}
	evs, _ := db.ListEvents(ctx, tn.ID, 0, 0)
	if last := evs[len(evs)-1].Message; last == "" {
		t.Error("no event")
	}
}
