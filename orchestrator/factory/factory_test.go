package factory

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"appfactory/apperr"
	"appfactory/orchestrator/internal/fakeruntime"
)

func sampleInput() BuildInput {
	return BuildInput{
		AppID: "app1", Platform: "contentapp", Version: "1.0", BaseImage: "appfactory/contentapp:1.0",
		Components: []ComponentInput{
			{ID: "workflow", Env: map[string]string{"FEATURE_WORKFLOW": "1"}, Files: map[string]string{"/etc/contentapp/workflow.json": `{"initial":"draft"}`}},
			{ID: "comments", Env: map[string]string{"FEATURE_COMMENTS": `say "hi" $HOME`}},
		},
		Custom: []CustomInput{{Name: "Invoice Stamp", Files: []CustomFile{
			{Path: "component.yaml", Data: []byte("name: invoice-stamp\n")},
			{Path: "bin/run", Mode: 0o755, Data: []byte("#!/bin/true\n")},
		}}},
		Model: json.RawMessage(`{"title":"Acme","doctypes":[{"name":"Contract","fields":[]}]}`),
	}
}

// untar lists a build context's files with their content.
func untar(t *testing.T, b []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if h.Typeflag == tar.TypeReg {
			out[h.Name] = string(data)
		}
	}
}

func TestPlanContextAndDockerfile(t *testing.T) {
	rt := fakeruntime.New()
	rt.Images["appfactory/contentapp:1.0"] = "sha256:base1"
	f := NewFactory(rt)
	f.Labels = map[string]string{"appfactory.test": "1"}
	p, err := f.Plan(context.Background(), sampleInput())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Tag, "appfactory/tenant-contentapp:") || len(p.Hash) != 16 || p.BaseID != "sha256:base1" {
		t.Fatalf("plan tag %s hash %s", p.Tag, p.Hash)
	}
	files := untar(t, p.Context)
	want := map[string]string{
		"rootfs/app/config/model.json":                   `{"doctypes":[{"fields":[],"name":"Contract"}],"title":"Acme"}`,
		"rootfs/app/config/components.json":              `["comments","workflow"]`,
		"rootfs/etc/contentapp/workflow.json":            `{"initial":"draft"}`,
		"rootfs/app/custom/invoice-stamp/component.yaml": "name: invoice-stamp\n",
		"rootfs/app/custom/invoice-stamp/bin/run":        "#!/bin/true\n",
	}
	for name, content := range want {
		if files[name] != content {
			t.Errorf("%s = %q, want %q", name, files[name], content)
		}
	}
	df := files["Dockerfile"]
	for _, line := range []string{
		"FROM appfactory/contentapp:1.0\n",
		`ENV FEATURE_COMMENTS="say \"hi\" \$HOME" FEATURE_WORKFLOW="1"` + "\n",
		"COPY rootfs/ /\n",
		`LABEL "appfactory.app"="app1" "appfactory.hash"="` + p.Hash + `" "appfactory.platform"="contentapp" "appfactory.test"="1" "appfactory.version"="1.0"` + "\n",
	} {
		if !strings.Contains(df, line) {
			t.Errorf("Dockerfile lacks %q:\n%s", line, df)
		}
	}
}

func TestPlanHashIsContentAddressed(t *testing.T) {
	rt := fakeruntime.New()
	rt.Images["appfactory/contentapp:1.0"] = "sha256:base1"
	f := NewFactory(rt)
	ctx := context.Background()
	base, _ := f.Plan(ctx, sampleInput())
	tests := []struct {
		name   string
		change func(*BuildInput)
		same   bool
	}{
		{"identical", func(*BuildInput) {}, true},
		{"model keys reordered and spaced", func(in *BuildInput) {
			in.Model = json.RawMessage(`{ "doctypes": [{"fields": [], "name": "Contract"}], "title": "Acme" }`)
		}, true},
		{"components listed in another order", func(in *BuildInput) {
			in.Components[0], in.Components[1] = in.Components[1], in.Components[0]
		}, true},
		{"another app with the same assembly", func(in *BuildInput) { in.AppID = "app2" }, true},
		{"model title", func(in *BuildInput) { in.Model = json.RawMessage(`{"title":"Other"}`) }, false},
		{"component env", func(in *BuildInput) { in.Components[1].Env = map[string]string{"FEATURE_COMMENTS": "2"} }, false},
		{"custom file", func(in *BuildInput) { in.Custom[0].Files[1].Data = []byte("changed") }, false},
		{"base image rebuilt", func(*BuildInput) { rt.Images["appfactory/contentapp:1.0"] = "sha256:base2" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt.Images["appfactory/contentapp:1.0"] = "sha256:base1"
			in := sampleInput()
			tt.change(&in)
			p, err := f.Plan(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if (p.Tag == base.Tag) != tt.same {
				t.Errorf("tag %s vs %s, want same=%v", p.Tag, base.Tag, tt.same)
			}
		})
	}
}

func TestPlanRefusals(t *testing.T) {
	rt := fakeruntime.New()
	rt.Images["appfactory/contentapp:1.0"] = "sha256:base1"
	f := NewFactory(rt)
	ctx := context.Background()
	in := sampleInput()
	in.BaseImage = "appfactory/contentapp:9.9"
	if _, err := f.Plan(ctx, in); apperr.Code(err) != apperr.Unavailable {
		t.Errorf("missing base image: %v", err)
	}
	for name, change := range map[string]func(*BuildInput){
		"custom file escaping":  func(in *BuildInput) { in.Custom[0].Files[0].Path = "../../etc/passwd" },
		"relative component":    func(in *BuildInput) { in.Components[0].Files = map[string]string{"etc/x": ""} },
		"bad variable":          func(in *BuildInput) { in.Components[0].Env = map[string]string{"A-B": "1"} },
		"model not JSON":        func(in *BuildInput) { in.Model = json.RawMessage(`{"title":`) },
		"custom name unusable":  func(in *BuildInput) { in.Custom[0].Name = "///" },
		"base image with space": func(in *BuildInput) { in.BaseImage = "a b" },
	} {
		in := sampleInput()
		change(&in)
		if _, err := f.Plan(ctx, in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestFactoryBuildReusesExistingTag(t *testing.T) {
	rt := fakeruntime.New()
	rt.Images["appfactory/contentapp:1.0"] = "sha256:base1"
	f := NewFactory(rt)
	ctx := context.Background()
	p, _ := f.Plan(ctx, sampleInput())
	reused, err := f.Build(ctx, p, nil)
	if err != nil || reused {
		t.Fatalf("first build: reused %v err %v", reused, err)
	}
	rt.TakeCalls()
	reused, err = f.Build(ctx, p, nil)
	if err != nil || !reused {
		t.Fatalf("second build: reused %v err %v", reused, err)
	}
	if calls := rt.TakeCalls(); len(calls) != 0 {
		t.Errorf("second build called the engine: %v", calls)
	}
}
