package httpapi

import (
	"net/http"
	"strings"
)

// A stored file is someone's upload, served from the app's own origin: it
// must never run there. Only raster images show inline (the app and the
// widget embed them); everything goes out with nosniff and a CSP that
// allows nothing and sandboxes the document, should a browser render it
// anyway.

// inlineTypes are the images browsers only display.
var inlineTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "image/avif": true, "image/bmp": true,
}

// servedType is the Content-Type a file goes out with: its own for types a
// browser only displays, plays or downloads (images, audio, video, PDF,
// plain text), application/octet-stream for the rest (HTML, SVG, XML,
// scripts and everything unknown), so nothing can be taken for a page.
func servedType(ct string) string {
	switch {
	case inlineTypes[ct], ct == "text/plain", ct == "application/pdf",
		strings.HasPrefix(ct, "audio/"), strings.HasPrefix(ct, "video/"):
		return ct
	}
	return "application/octet-stream"
}

// fileHeaders sets the headers that make a stored file inert.
func fileHeaders(h http.Header, name, contentType string) {
	disposition := "attachment"
	if inlineTypes[contentType] {
		disposition = "inline"
	}
	h.Set("Content-Type", servedType(contentType))
	h.Set("Content-Disposition", contentDisposition(disposition, name))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
}

// contentDisposition writes a Content-Disposition with the file name twice
// (RFC 6266): filename* in UTF-8, percent-encoded as RFC 8187 says, and a
// plain ASCII filename for old clients, in which every character outside
// printable ASCII, and the quote, backslash and percent sign, are "_".
func contentDisposition(kind, name string) string {
	var b strings.Builder
	b.WriteString(kind)
	b.WriteString(`; filename="`)
	for _, r := range name {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == '%' {
			r = '_'
		}
		b.WriteRune(r)
	}
	b.WriteString(`"; filename*=UTF-8''`)
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(name); i++ {
		if c := name[i]; attrChar(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// attrChar reports whether c may stand unencoded in an RFC 8187 value.
func attrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
