package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/livechat"
)

// makePNG draws a w×h PNG with a gradient, so it is a real image.
func makePNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{R: uint8(x), G: uint8(y), B: 200, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func filePath(id int64, rest string) string { return fmt.Sprintf("/api/v1/files/%d%s", id, rest) }

func TestFiles(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		a := s.newUser(t, parley.RoleMember, "Anna Alpha")
		b := s.newUser(t, parley.RoleMember, "Boris Beta")
		outsider := s.newUser(t, parley.RoleAdmin, "Olivia Outsider")
		dm := a.directAllowed(b)
		pic := makePNG(t, 640, 480)

		var f parley.File
		a.upload("holiday photo.png", "image/png", pic).want(http.StatusCreated).decode(&f)
		if f.ID == 0 || f.Width != 640 || f.Height != 480 || !f.HasThumb || f.ContentType != "image/png" ||
			f.Size != int64(len(pic)) || f.Name != "holiday photo.png" || f.OwnerID != a.id() || f.ConversationID != 0 {
			t.Fatalf("uploaded %+v", f)
		}

		// Until it is sent, the upload is its owner's alone.
		r := a.do("GET", filePath(f.ID, ""), nil).want(http.StatusOK)
		if !bytes.Equal(r.Body, pic) || r.Header.Get("Content-Type") != "image/png" ||
			!strings.HasPrefix(r.Header.Get("Content-Disposition"), "inline") || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("download: %d bytes, headers %v", len(r.Body), r.Header)
		}
		b.do("GET", filePath(f.ID, ""), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		b.do("GET", filePath(f.ID, "/thumbnail"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)

		// Sending someone else's upload is refused.
		n := len(b.history(dm.ID, ""))
		b.do("POST", convPath(dm.ID, "/messages"), map[string]any{"file_ids": []int64{f.ID}}).wantErr(http.StatusBadRequest, parley.EINVALID)
		b.do("POST", convPath(dm.ID, "/messages"), map[string]any{"text": "x", "file_ids": []int64{999999}}).wantErr(http.StatusBadRequest, parley.EINVALID)
		if len(b.history(dm.ID, "")) != n {
			t.Fatal("refused sends stored a message")
		}
		b.do("GET", filePath(f.ID, ""), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)

		m := a.sendBody(dm.ID, map[string]any{"text": "look!", "file_ids": []int64{f.ID}})
		if m.Kind != parley.MsgFile || len(m.Files) != 1 || m.Files[0].ID != f.ID || m.Files[0].ConversationID != dm.ID {
			t.Fatalf("message with the photo: %+v", m)
		}
		// Members download it and its preview.
		r = b.do("GET", filePath(f.ID, ""), nil).want(http.StatusOK)
		if !bytes.Equal(r.Body, pic) {
			t.Error("B downloads different bytes")
		}
		r = b.do("GET", filePath(f.ID, "/thumbnail"), nil).want(http.StatusOK)
		if ct := r.Header.Get("Content-Type"); ct != "image/jpeg" {
			t.Errorf("thumbnail type %q", ct)
		}
		thumb, err := jpeg.Decode(bytes.NewReader(r.Body))
		if err != nil {
			t.Fatalf("the thumbnail is not a JPEG: %v", err)
		}
		if bnd := thumb.Bounds(); bnd.Dx() != 320 || bnd.Dy() != 240 {
			t.Errorf("thumbnail is %dx%d, want 320x240", bnd.Dx(), bnd.Dy())
		}
		h := b.history(dm.ID, "")
		if last := h[len(h)-1]; len(last.Files) != 1 || last.Files[0].Width != 640 || !last.Files[0].HasThumb {
			t.Errorf("history shows files %+v", last.Files)
		}
		// Non-members do not.
		outsider.do("GET", filePath(f.ID, ""), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		outsider.do("GET", filePath(f.ID, "/thumbnail"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		s.anon(t).do("GET", filePath(f.ID, ""), nil).wantErr(http.StatusUnauthorized, parley.EUNAUTHORIZED)
		// A file is sent once.
		a.do("POST", convPath(dm.ID, "/messages"), map[string]any{"file_ids": []int64{f.ID}}).wantErr(http.StatusBadRequest, parley.EINVALID)

		// Other files download as attachments and have no preview.
		var doc parley.File
		a.upload("notes.txt", "text/plain; charset=utf-8", []byte("minutes of the meeting")).want(http.StatusCreated).decode(&doc)
		if doc.Width != 0 || doc.HasThumb || doc.ContentType != "text/plain" {
			t.Errorf("text file %+v", doc)
		}
		var page parley.File
		a.upload("page.html", "text/html", []byte("<script>alert(1)</script>")).want(http.StatusCreated).decode(&page)
		r = a.do("GET", filePath(page.ID, ""), nil).want(http.StatusOK)
		if !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") || r.Header.Get("Content-Security-Policy") != inertCSP {
			t.Errorf("an HTML upload is served with %v", r.Header)
		}
		a.do("GET", filePath(doc.ID, "/thumbnail"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		// A broken image is kept as a plain file.
		var broken parley.File
		a.upload("broken.png", "image/png", []byte("\x89PNG not really")).want(http.StatusCreated).decode(&broken)
		if broken.Width != 0 || broken.HasThumb {
			t.Errorf("broken image %+v", broken)
		}
		// Names are file names, not paths.
		var sneaky parley.File
		a.upload("../../etc/pass\"wd\r\n.txt", "text/plain", []byte("x")).want(http.StatusCreated).decode(&sneaky)
		if sneaky.Name != "passwd.txt" {
			t.Errorf("uploaded name %q", sneaky.Name)
		}
		// No type given: guessed from the name.
		var guessed parley.File
		a.upload("pic.png", "", pic).want(http.StatusCreated).decode(&guessed)
		if guessed.ContentType != "image/png" || guessed.Width != 640 {
			t.Errorf("without a type: %+v", guessed)
		}
		two := a.sendBody(dm.ID, map[string]any{"text": "two files", "file_ids": []int64{doc.ID, page.ID, doc.ID}})
		if len(two.Files) != 2 {
			t.Errorf("a message with two files (one twice) has %d", len(two.Files))
		}

		// Bad uploads.
		a.upload("empty.txt", "text/plain", nil).wantErr(http.StatusBadRequest, parley.EINVALID)
		a.do("POST", "/api/v1/files", []byte("no name")).wantErr(http.StatusBadRequest, parley.EINVALID)
		// Without Content-Length (chunked) is taken (TestUploadWithoutLength).
		a.do("POST", "/api/v1/files?name=stream.bin", io.MultiReader(strings.NewReader("no length"))).want(http.StatusCreated)

		// Deleting the message deletes its files.
		a.do("DELETE", "/api/v1/messages/"+itoa(m.ID), nil).want(http.StatusOK)
		b.do("GET", filePath(f.ID, ""), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		b.do("GET", filePath(f.ID, "/thumbnail"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
	})
}

func TestFileLimits(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *Config) { c.MaxFileSize = 1000 })
	a, b := s.newUser(t, parley.RoleMember, "Anna"), s.newUser(t, parley.RoleMember, "Boris")
	dir := filepath.Join(s.m.Config.DataDir, "files")

	var ok parley.File
	a.upload("fits.bin", "application/octet-stream", bytes.Repeat([]byte{1}, 1000)).want(http.StatusCreated).decode(&ok)
	stored := filesIn(t, dir)
	e := a.upload("too-big.bin", "application/octet-stream", bytes.Repeat([]byte{1}, 1001)).wantErr(http.StatusRequestEntityTooLarge, parley.ETOOLARGE)
	if !strings.Contains(e.Message, "1000") {
		t.Errorf("the error does not name the limit: %+v", e)
	}
	if got := filesIn(t, dir); got != stored {
		t.Errorf("a refused upload left files: %d, before %d", got, stored)
	}
	if _, err := s.m.store.FileByID(context.Background(), ok.ID+1); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("a refused upload left a file row: %v", err)
	}
	// Far over the limit: refused before the body is read.
	a.upload("huge.bin", "application/octet-stream", make([]byte, 8<<20)).wantErr(http.StatusRequestEntityTooLarge, parley.ETOOLARGE)
	if got := filesIn(t, dir); got != stored {
		t.Errorf("a refused upload left files: %d, before %d", got, stored)
	}
	// The client goes on after the refusals.
	a.me()

	// At most the configured number of files per message.
	c := a.directAllowed(b)
	var ids []int64
	for i := range 11 {
		var f parley.File
		a.upload(fmt.Sprintf("f%d.txt", i), "text/plain", []byte("x")).want(http.StatusCreated).decode(&f)
		ids = append(ids, f.ID)
	}
	a.do("POST", convPath(c.ID, "/messages"), map[string]any{"file_ids": ids}).wantErr(http.StatusBadRequest, parley.EINVALID)
	a.sendBody(c.ID, map[string]any{"file_ids": ids[:10]})

	// A profile photo must be an image of one's own; everyone then sees it.
	pic := makePNG(t, 40, 40)
	s2 := newServer(t)
	x, y := s2.newUser(t, parley.RoleMember, "Xena"), s2.newUser(t, parley.RoleMember, "Yuri")
	var photo, txt parley.File
	x.upload("me.png", "image/png", pic).want(http.StatusCreated).decode(&photo)
	x.upload("me.txt", "text/plain", []byte("me")).want(http.StatusCreated).decode(&txt)
	x.do("PATCH", "/api/v1/me", map[string]any{"photo_file_id": txt.ID}).wantErr(http.StatusBadRequest, parley.EINVALID)
	var yours parley.File
	y.upload("y.png", "image/png", pic).want(http.StatusCreated).decode(&yours)
	x.do("PATCH", "/api/v1/me", map[string]any{"photo_file_id": yours.ID}).wantErr(http.StatusBadRequest, parley.EINVALID)
	y.do("GET", filePath(photo.ID, ""), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
	x.do("PATCH", "/api/v1/me", map[string]any{"photo_file_id": photo.ID}).want(http.StatusOK)
	y.do("GET", filePath(photo.ID, ""), nil).want(http.StatusOK)
	y.do("GET", filePath(txt.ID, ""), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
}

// inertCSP is the policy every stored file is served with.
const inertCSP = "default-src 'none'; sandbox"

// pngClaiming is a PNG of a few dozen bytes whose header claims w×h
// (a decompression bomb: 50,000 × 50,000 RGBA would decode to 10 GB).
func pngClaiming(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		b = append(append(b, typ...), data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA
	out := append([]byte("\x89PNG\r\n\x1a\n"), chunk("IHDR", ihdr)...)
	out = append(out, chunk("IDAT", []byte{0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01})...)
	return append(out, chunk("IEND", nil)...)
}

// TestFilesInert: uploads are served so that they can never run as the
// app's origin, whatever their type and name (issue 13): a safe type
// (application/octet-stream for anything a browser could take for a page),
// nosniff, a CSP that allows nothing, inline only for raster images, and
// the file name encoded (RFC 6266, RFC 8187) so that it cannot break the
// header. The widget's download and a channel's file link share the code.
func TestFilesInert(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	lc := newLiveChat(t, s)
	a := lc.a

	check := func(r *response, what, wantType, wantDisp, wantName string) {
		t.Helper()
		h := r.Header
		if got := h.Get("Content-Type"); got != wantType {
			t.Errorf("%s: Content-Type %q, want %q", what, got, wantType)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Security-Policy") != inertCSP {
			t.Errorf("%s: nosniff %q, CSP %q", what, h.Get("X-Content-Type-Options"), h.Get("Content-Security-Policy"))
		}
		raw := h.Get("Content-Disposition")
		disp, params, err := mime.ParseMediaType(raw)
		if err != nil || disp != wantDisp || params["filename"] != wantName {
			t.Errorf("%s: Content-Disposition %q parses as %q %q (%v); want %s with %q", what, raw, disp, params, err, wantDisp, wantName)
		}
		// The ASCII fallback is plain: nothing to unescape, nothing that ends the quoted string early.
		if i := strings.Index(raw, `filename="`); i < 0 || strings.ContainsAny(raw[i+len(`filename="`):strings.Index(raw, `"; filename*=`)], "\\\"%\x7f") {
			t.Errorf("%s: the ASCII file name in %q", what, raw)
		}
		for _, c := range raw {
			if c < 0x20 || c >= 0x7f {
				t.Errorf("%s: Content-Disposition %q has a byte outside printable ASCII", what, raw)
				break
			}
		}
	}
	upload := func(name, ct string, body []byte) parley.File {
		t.Helper()
		var f parley.File
		a.upload(name, ct, body).want(http.StatusCreated).decode(&f)
		return f
	}

	page := []byte("<!doctype html><script>parent.__xss=1</script><b>hi</b>")
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>`)
	for _, c := range []struct {
		name, ct string
		body     []byte
		wantType string
	}{
		{"page.html", "text/html", page, "application/octet-stream"},
		{"page.xhtml", "application/xhtml+xml", page, "application/octet-stream"},
		{"no-type.html", "", page, "application/octet-stream"}, // typed from its name: text/html
		{"logo.svg", "image/svg+xml", svg, "application/octet-stream"},
		{"data.xml", "text/xml", svg, "application/octet-stream"},
		{"app.js", "text/javascript", []byte("alert(1)"), "application/octet-stream"},
		{"disguised.txt", "text/plain", page, "text/plain"}, // nosniff keeps it text
		{"tune.ogg", "audio/ogg", []byte("OggS"), "audio/ogg"},
		{"manual.pdf", "application/pdf", []byte("%PDF-1.4"), "application/pdf"},
	} {
		f := upload(c.name, c.ct, c.body)
		r := a.do("GET", filePath(f.ID, ""), nil).want(http.StatusOK)
		check(r, c.name, c.wantType, "attachment", c.name)
		if !bytes.Equal(r.Body, c.body) {
			t.Errorf("%s: served bytes differ", c.name)
		}
	}
	pic := upload("photo.png", "image/png", makePNG(t, 32, 32))
	check(a.do("GET", filePath(pic.ID, ""), nil).want(http.StatusOK), "a PNG", "image/png", "inline", "photo.png")
	check(a.do("GET", filePath(pic.ID, "/thumbnail"), nil).want(http.StatusOK), "a preview", "image/jpeg", "inline", "photo.png")

	// Names: quotes, line breaks and direction overrides are dropped at upload; what remains,
	// ";", "=", "'", "%", a backslash's path and any script, comes back whole.
	for _, c := range []struct{ sent, stored string }{
		{"quote\"d\r\nX-Injected: 1.txt", "quotedX-Injected: 1.txt"},
		{"a;b=c 'd' 100% (1).txt", "a;b=c 'd' 100% (1).txt"},
		{"résumé 履歴書 ✓ \u202egnp.exe", "résumé 履歴書 ✓ gnp.exe"}, // no direction override to disguise the type
		{`dir\"><img src=x onerror=alert(1)>.txt`, "><img src=x onerror=alert(1)>.txt"},
	} {
		f := upload(c.sent, "text/plain", []byte("x"))
		if f.Name != c.stored {
			t.Errorf("uploaded %q: stored as %q, want %q", c.sent, f.Name, c.stored)
		}
		r := a.do("GET", filePath(f.ID, ""), nil).want(http.StatusOK)
		check(r, fmt.Sprintf("%q", c.stored), "text/plain", "attachment", c.stored)
		if r.Header.Get("X-Injected") != "" {
			t.Errorf("a file name set a header: %v", r.Header)
		}
	}

	// The widget's download: an HTML file a visitor sent, and one a manager sent.
	v := s.visitor(t, lc.project.Key, nil)
	v.send("hello")
	var vf livechat.VisitorFile
	v.do("POST", "/api/v1/widget/files?name="+url.QueryEscape("x\"><svg onload=alert(1)>.svg"), svg).want(http.StatusCreated).decode(&vf)
	v.do("POST", "/api/v1/widget/messages", map[string]any{"client_id": "svg", "file_ids": []int64{vf.ID}}).want(http.StatusCreated)
	check(v.do("GET", fmt.Sprintf("/api/v1/widget/files/%d?token=%s", vf.ID, v.token), nil).want(http.StatusOK),
		"a visitor's SVG, to the visitor", "application/octet-stream", "attachment", "x><svg onload=alert(1)>.svg")
	check(a.do("GET", filePath(vf.ID, ""), nil).want(http.StatusOK),
		"a visitor's SVG, to staff", "application/octet-stream", "attachment", "x><svg onload=alert(1)>.svg")

	// A decompression bomb is accepted as a file: no size, no preview, never decoded.
	for _, c := range []struct {
		name string
		data []byte
	}{{"bomb.png", pngClaiming(50_000, 50_000)}, {"tall.png", pngClaiming(1, 60_000_000)}} {
		f := upload(c.name, "image/png", c.data)
		if f.Width != 0 || f.Height != 0 || f.HasThumb || f.ContentType != "image/png" {
			t.Errorf("%s: uploaded as %+v", c.name, f)
		}
		a.do("GET", filePath(f.ID, "/thumbnail"), nil).wantErr(http.StatusNotFound, parley.ENOTFOUND)
		r := a.do("GET", filePath(f.ID, ""), nil).want(http.StatusOK)
		if !bytes.Equal(r.Body, c.data) {
			t.Errorf("%s: served bytes differ", c.name)
		}
	}
}
