// Package static holds the portal's CSS, images and scripts. Vendor code
// (htmx) is copied from node_modules by `make vendor`, never committed.
package static

import "embed"

// FS is served under /static/.
//
//go:embed app.css app.js favicon.svg vendor
var FS embed.FS
