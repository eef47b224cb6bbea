package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/template"

	"appfactory/apperr"
	"appfactory/catalog"
	"appfactory/store"
)

// preview returns the Dockerfile and Compose stack of an app for the
// review: the factory's when there is one, else our own rendering of the
// catalog's materials, so the review is useful before the factory exists.
// host is the portal's Host header, for the tenant address shown.
func (h *Handlers) preview(ctx context.Context, a *store.App, host string) (dockerfile, compose string, err error) {
	if h.Deployer != nil {
		return h.Deployer.Preview(ctx, a)
	}
	p, ok := h.Catalog.Platform(a.Platform)
	if !ok {
		return "", "", apperr.New(apperr.Unprocessable, "Unknown platform %q.", a.Platform)
	}
	v, ok := p.Version(a.Version)
	if !ok {
		return "", "", apperr.New(apperr.Unprocessable, "Unknown version %q.", a.Version)
	}
	custom, err := h.ownedComponents(ctx, a)
	if err != nil {
		return "", "", err
	}
	dockerfile = dockerfilePreview(p, v, a, custom)
	e, ok := h.Catalog.Environment(a.Environment)
	if !ok {
		return dockerfile, "", apperr.New(apperr.Unprocessable, "Unknown environment %q.", a.Environment)
	}
	slug := previewSlug(a.Name)
	port := ""
	if _, pt, err := net.SplitHostPort(host); err == nil {
		port = ":" + pt
	}
	compose, err = composePreview(ctx, p, a, e, previewImage(a, custom), slug, "http://"+slug+"."+h.Server.Domain()+port)
	return dockerfile, compose, err
}

// previewImage is a content-addressed tag for the assembly, the way the
// factory names the images it builds.
func previewImage(a *store.App, custom []store.CustomComponent) string {
	h := sha256.New()
	b, _ := json.Marshal(assemblyOf(a))
	h.Write(b)
	for _, cc := range custom {
		h.Write([]byte(cc.SHA256))
	}
	return "appfactory/app-" + a.Platform + ":" + hex.EncodeToString(h.Sum(nil))[:16]
}

// dockerfilePreview writes the Dockerfile of an assembly: the platform
// image, the selected components' environment and files, the uploaded
// components and the application model.
func dockerfilePreview(p *catalog.Platform, v *catalog.Version, a *store.App, custom []store.CustomComponent) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s (revision %d) on %s\n", oneLine(a.Name), a.Revision, p.Title(v))
	fmt.Fprintf(&b, "FROM %s\n\n", v.Image)
	fmt.Fprintf(&b, "LABEL appfactory.app=%q appfactory.platform=%q appfactory.version=%q\n", a.ID, p.ID, v.Version)

	env := map[string]string{}
	var ids []string
	files := map[string]string{} // path in the image -> component id
	for _, id := range a.Components() {
		c, ok := p.Component(id)
		if !ok {
			continue
		}
		ids = append(ids, c.ID)
		for k, val := range c.Env {
			env[k] = val
		}
		for path := range c.Files {
			files[path] = c.ID
		}
	}
	if len(ids) > 0 {
		fmt.Fprintf(&b, "\n# Components: %s\n", strings.Join(ids, ", "))
		for _, k := range sortedStrings(env) {
			fmt.Fprintf(&b, "ENV %s=%s\n", k, strconv.Quote(env[k]))
		}
		for _, path := range sortedStrings(files) {
			fmt.Fprintf(&b, "COPY components/%s%s %s\n", files[path], path, path)
		}
	}
	if len(custom) > 0 {
		b.WriteString("\n# Uploaded components, unpacked from their checked archives\n")
		for _, cc := range custom {
			fmt.Fprintf(&b, "COPY custom/%s/ /opt/appfactory/components/%s/\n", cc.SHA256[:16], cc.Name)
		}
	}
	m := a.Model()
	b.WriteString("\n# Application model\n")
	b.WriteString("COPY model.json /opt/appfactory/model.json\n")
	fmt.Fprintf(&b, "ENV APPFACTORY_MODEL=/opt/appfactory/model.json \\\n    APPFACTORY_TITLE=%s \\\n    APPFACTORY_COLOR=%s \\\n    APPFACTORY_COMPONENTS=%s\n",
		strconv.Quote(oneLine(m.Title)), strconv.Quote(m.Color), strconv.Quote(strings.Join(ids, ",")))
	return b.String()
}

// composePreview interpolates the version's stack template with the values
// a deployment of the app in environment e would get, and loads it as the
// orchestrator will, so that a template problem shows here first. The
// tenant id and secret are stand-ins: they are made at deploy time.
func composePreview(ctx context.Context, p *catalog.Platform, a *store.App, e *catalog.Environment, image, slug, publicURL string) (string, error) {
	tmpl := p.StackFor(a.Version)
	vars := catalog.StackParams{
		Tenant: "tenant-id", Slug: slug, Image: image, Platform: a.Platform, Version: a.Version, Env: e.ID,
		Replicas: a.Replicas, MemoryBytes: e.MemoryBytes, CPUs: e.CPUs, PidsLimit: e.PidsLimit,
		PublicURL: publicURL, Secret: "generated-at-deploy",
	}.Vars()
	text, err := template.SubstituteWithOptions(tmpl, func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}, template.WithoutLogging)
	if err != nil {
		return tmpl, apperr.New(apperr.Unprocessable, "The stack template cannot be interpolated: %v", err)
	}
	if _, err := catalog.LoadStack(ctx, p.ID+" "+a.Version, tmpl, vars); err != nil {
		return text, apperr.New(apperr.Unprocessable, "%v", err)
	}
	return text, nil
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// previewSlug is a tenant address label made from an app name.
func previewSlug(name string) string {
	s := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(s) > 30 {
		s = strings.TrimRight(s[:30], "-")
	}
	if s == "" {
		s = "your-app"
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func sortedStrings(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
