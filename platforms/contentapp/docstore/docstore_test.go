package docstore

import (
	"context"
	"testing"
	"time"

	"appfactory/apperr"
	"appfactory/platforms/contentapp/content"
)

func openTest(t *testing.T, dir string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// tick returns a clock that advances one second per call, so that
// "newest first" is well defined.
func tick() func() time.Time {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { t0 = t0.Add(time.Second); return t0 }
}

func mustCreate(t *testing.T, db *DB, doctype, title string, fields map[string]any) content.Document {
	t.Helper()
	d, err := db.CreateDocument(context.Background(), doctype, title, fields)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDocuments(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, t.TempDir())
	db.Now = tick()
	a := mustCreate(t, db, "Contract", "Alpha", map[string]any{"amount": 3.0})
	b := mustCreate(t, db, "Memo", "Beta", nil)
	if a.State != content.Draft || a.Version != 1 || a.Fields["amount"] != 3.0 || len(a.ID) != 16 {
		t.Fatalf("created = %+v", a)
	}
	list, err := db.Documents(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if list.Total != 2 || list.Documents[0].ID != b.ID || list.Documents[1].ID != a.ID {
		t.Fatalf("list = %+v, want newest first", list)
	}
	list, _ = db.Documents(ctx, "Contract", 10)
	if list.Total != 1 || list.Documents[0].ID != a.ID {
		t.Fatalf("filtered list = %+v", list)
	}
	counts, _ := db.CountByDoctype(ctx)
	if counts["Contract"] != 1 || counts["Memo"] != 1 {
		t.Fatalf("counts = %v", counts)
	}
	if _, err := db.Document(ctx, "nope"); apperr.Code(err) != apperr.NotFound {
		t.Fatalf("missing document: %v", err)
	}
}

func TestUpdateAndVersions(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		keep      bool
		wantKept  int
		wantTitle string
	}{
		{"versioning on", true, 2, "Alpha 1"},
		{"versioning off", false, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTest(t, t.TempDir())
			d := mustCreate(t, db, "Contract", "Alpha 1", map[string]any{"n": 1.0})
			d2, err := db.UpdateDocument(ctx, d.ID, "Alpha 2", map[string]any{"n": 2.0}, 1, tt.keep)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.UpdateDocument(ctx, d.ID, "Alpha 3", nil, 0, tt.keep); err != nil {
				t.Fatal(err)
			}
			if d2.Version != 2 || d2.Title != "Alpha 2" || d2.Fields["n"] != 2.0 {
				t.Fatalf("updated = %+v", d2)
			}
			if _, err := db.UpdateDocument(ctx, d.ID, "stale", nil, 1, tt.keep); apperr.Code(err) != apperr.Conflict {
				t.Fatalf("stale update: %v, want conflict", err)
			}
			vs, err := db.Versions(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != tt.wantKept {
				t.Fatalf("versions = %+v", vs)
			}
			if tt.keep && (vs[1].Title != tt.wantTitle || vs[1].Version != 1 || vs[0].Fields["n"] != 2.0) {
				t.Fatalf("versions = %+v", vs)
			}
		})
	}
}

func TestTransition(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, t.TempDir())
	d := mustCreate(t, db, "Contract", "Alpha", nil)
	steps := []struct {
		to   string
		code string
	}{
		{content.Published, apperr.Conflict},
		{content.Review, ""},
		{content.Published, ""},
		{"archived", apperr.Unprocessable},
		{content.Draft, ""},
	}
	for _, s := range steps {
		got, err := db.Transition(ctx, d.ID, s.to)
		if apperr.Code(err) != s.code {
			t.Fatalf("to %s: err %v, want code %q", s.to, err, s.code)
		}
		if err == nil && got.State != s.to {
			t.Fatalf("state = %s, want %s", got.State, s.to)
		}
	}
	if _, err := db.Transition(ctx, "nope", content.Review); apperr.Code(err) != apperr.NotFound {
		t.Fatalf("missing document: %v", err)
	}
}

func TestComments(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, t.TempDir())
	d := mustCreate(t, db, "Contract", "Alpha", nil)
	for _, body := range []string{"first", "second"} {
		if _, err := db.AddComment(ctx, d.ID, content.CommentInput{Author: "Ann", Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := db.Comments(ctx, d.ID)
	if err != nil || len(cs) != 2 || cs[0].Body != "first" || cs[1].Author != "Ann" {
		t.Fatalf("comments = %+v, %v", cs, err)
	}
	if _, err := db.AddComment(ctx, "nope", content.CommentInput{Body: "x"}); apperr.Code(err) != apperr.NotFound {
		t.Fatalf("comment on missing document: %v", err)
	}
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, t.TempDir())
	a := mustCreate(t, db, "Contract", "Supply agreement", map[string]any{"party": "Globex Corporation", "kind": "msa"})
	b := mustCreate(t, db, "Memo", "Café opening", map[string]any{"body": "Coffee for everyone"})
	if _, err := db.UpdateDocument(ctx, b.ID, "Café opening", map[string]any{"body": "Tea for everyone"}, 0, false); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q    string
		want []string
	}{
		{"globex", []string{a.ID}},
		{"supp", []string{a.ID}},
		{"cafe", []string{b.ID}},
		{"tea", []string{b.ID}},
		{"coffee", nil},
		{"globex tea", nil},
		{"memo", []string{b.ID}},
		{`"unbalanced AND ( OR * NEAR`, nil},
		{"   ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			got, err := db.Search(ctx, tt.q, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Search(%q) = %d results, want %d", tt.q, len(got), len(tt.want))
			}
			for i := range got {
				if got[i].ID != tt.want[i] {
					t.Fatalf("Search(%q)[%d] = %s", tt.q, i, got[i].ID)
				}
			}
		})
	}
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	d := mustCreate(t, db, "Contract", "Kept", nil)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2 := openTest(t, dir)
	got, err := db2.Document(context.Background(), d.ID)
	if err != nil || got.Title != "Kept" {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
}

func FuzzSearch(f *testing.F) {
	db, err := Open(context.Background(), f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateDocument(context.Background(), "Memo", "Hello world", map[string]any{"body": "text"}); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"hello", `"`, "a OR b", "NEAR(a b)", "*", "col:val", "x AND NOT y", "^a", "ß café 中文"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if _, err := db.Search(context.Background(), q, 5); err != nil {
			t.Fatalf("Search(%q): %v", q, err)
		}
	})
}
