// Package web embeds the built web app (web/dist, made from web/app by
// `npm run build`) so the binary serves it with nothing else installed.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// Handler serves the web app: files from dist, and index.html for every
// other path, which the app routes on the client. Every file carries an
// ETag and is sent gzipped to clients that accept it (compressed once, at
// start).
func Handler() http.Handler {
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("web: " + err.Error())
	}
	files, err := load(root)
	if err != nil {
		panic("web: " + err.Error())
	}
	index, ok := files["index.html"]
	if !ok {
		panic("web: dist has no index.html; run `npm run build` in web/")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name != "" && name != "index.html" {
			if f, ok := files[name]; ok {
				if strings.HasPrefix(name, "assets/") {
					// Vite names assets by content hash.
					h.Set("Cache-Control", "public, max-age=31536000, immutable")
				} else {
					// widget.js keeps its URL (host pages embed it) across
					// releases: cached briefly, then revalidated by ETag,
					// so a release reaches every site within minutes.
					h.Set("Cache-Control", "public, max-age=300")
				}
				f.serve(w, r)
				return
			}
			if strings.HasPrefix(name, "assets/") {
				http.NotFound(w, r)
				return
			}
		}
		// The app itself: revalidated on every load, so a new release is
		// picked up at once.
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "+
			"style-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		index.serve(w, r)
	})
}

// file is one embedded file, with its gzipped form when that is smaller.
type file struct {
	name         string
	data, gz     []byte
	etag, gzETag string
}

// compressible are the types worth gzipping; images and fonts are
// compressed already.
var compressible = map[string]bool{".js": true, ".mjs": true, ".css": true, ".html": true, ".svg": true,
	".json": true, ".txt": true, ".map": true, ".webmanifest": true}

func load(root fs.FS) (map[string]*file, error) {
	files := map[string]*file{}
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		tag := hex.EncodeToString(sum[:12])
		f := &file{name: p, data: data, etag: `"` + tag + `"`}
		if compressible[path.Ext(p)] {
			var b bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
			zw.Write(data)
			if err := zw.Close(); err != nil {
				return err
			}
			if b.Len() < len(data) {
				f.gz, f.gzETag = b.Bytes(), `"`+tag+`-gz"`
			}
		}
		files[p] = f
		return nil
	})
	return files, err
}

// serve answers with the file, gzipped if the client accepts it; the ETag
// names the encoding sent, and If-None-Match and ranges are handled by
// http.ServeContent.
func (f *file) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	body, etag := f.data, f.etag
	if f.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			body, etag = f.gz, f.gzETag
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reads an Accept-Encoding header: gzip listed with a
// non-zero q, or else "*" so.
func acceptsGzip(header string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip":
			return q > 0
		case "*":
			star = q > 0
		}
	}
	return star
}
