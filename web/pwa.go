package web

import "mime"

// The web app manifest's type (public/manifest.webmanifest), which Go's
// table lacks; the service worker (sw.js) is served as JavaScript from the
// root, so its scope is the whole app.
func init() {
	mime.AddExtensionType(".webmanifest", "application/manifest+json")
}
