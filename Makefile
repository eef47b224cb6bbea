# appfactory: `make run` serves the portal on localhost:8080, `make test`
# runs the unit, integration (real Docker) and browser (real Chromium) tests.
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
DATA_DIR ?= ./data
ADDR ?= :8080
GOFILES := $(shell find . -name '*.go' -not -path './node_modules/*' -not -name '*_test.go' 2>/dev/null)
TEMPLS := $(shell find views -name '*.templ')

.PHONY: all build run test e2e screenshots setup vendor templ images check fmt vet bench bench-router bench-nginx bench-budget bench-runtimes clean

all: build

## setup: install what is missing (docker.io, chromium, npm packages) and start Docker
setup:
	@scripts/setup.sh

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## vendor: copy htmx from npm into the folder the binary embeds
vendor: static/vendor/htmx.min.js
static/vendor/htmx.min.js: node_modules/.package-lock.json
	cp node_modules/htmx.org/dist/htmx.min.js $@

## templ: regenerate the templ components
templ:
	$(GO) tool templ generate

bin/appfactory: $(GOFILES) $(TEMPLS) static/vendor/htmx.min.js go.mod go.sum $(shell find static migrations catalog -type f -not -name '*.go' 2>/dev/null)
	$(GO) tool templ generate -log-level warn
	CGO_ENABLED=0 $(GO) build -trimpath -o $@ .

## images: the sample platform's images (appfactory/contentapp:<version>)
images:
	platforms/contentapp/build-images.sh

## build: bin/appfactory and the sample platform images
build: vendor bin/appfactory images

## run: build everything and serve on localhost:8080
run: setup build
	bin/appfactory serve --addr $(ADDR) --data-dir $(DATA_DIR)

## test: everything, on a fresh machine too (installs what is missing first)
test: setup build
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 14m ./...

## e2e: the browser journeys alone (real Chromium, real Docker)
e2e: setup build
	$(GO) test -count=1 -v ./e2e/

## screenshots: the README's pictures, taken by the browser journeys, into docs/
screenshots: setup build
	$(GO) test -count=1 -run 'TestProspectJourney|TestAdminDashboardJourney' ./e2e/
	mkdir -p docs
	cp e2e/artifacts/screenshots/wizard.png e2e/artifacts/screenshots/admin-dashboard.png docs/

## check: formatting, vet and generated files are up to date
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) tool templ generate >/dev/null && git diff --exit-code -- '*_templ.go'

## bench-router: the tenant router's figures (activation, proxy overhead, herd) against the engine
bench-router: build
	$(GO) run ./bench

## bench-nginx: the router side by side with nginx and direct: 1/16/64/256 connections, two paths, two rounds (wrk)
bench-nginx: build
	$(GO) run ./bench -matrix

## bench-budget: 50 tenants woken at once under a memory budget that fits 20 (served, queued, OOM kills, total time)
bench-budget: build
	$(GO) run ./bench/budget

## bench-runtimes: the engine and the swarm runtime side by side: deploy, activation p50/p95, router req/s
bench-runtimes: build
	bash bench/runtimes.sh

## bench: the benchmarks whose figures go into issue notes
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 10x ./orchestrator/...

clean:
	rm -rf bin static/vendor/htmx.min.js e2e/artifacts e2e/.driver
