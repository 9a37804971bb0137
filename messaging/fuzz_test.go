package messaging

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"mime"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzCleanName checks that an uploaded file's name, whatever the client
// sent, is safe to store and to put in a Content-Disposition header: no
// path, no control characters, valid UTF-8, bounded, never empty, and
// cleaning it again changes nothing.
func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"report.pdf", `C:\Users\ann\Desktop\photo.JPG`, "../../etc/passwd", "..", ".", "",
		"a\x00b\r\nc.txt", "résumé \u202egpj.exe", "\xff\xfe.png", strings.Repeat("é", 300) + ".txt", `"quoted".txt`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := cleanName(name)
		if got == "" || got == "." || got == ".." {
			t.Fatalf("cleanName(%q) = %q", name, got)
		}
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > 200 {
			t.Fatalf("cleanName(%q) = %q: invalid UTF-8 or over 200 characters", name, got)
		}
		for _, r := range got {
			if r == '/' || r == '\\' || r == '"' || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
				t.Fatalf("cleanName(%q) = %q keeps %U", name, got, r)
			}
		}
		if again := cleanName(got); again != got {
			t.Fatalf("cleanName is not idempotent: %q -> %q -> %q", name, got, again)
		}
	})
}

// FuzzCleanType checks that the stored media type is always a bare,
// well-formed type/subtype that file storage takes (it becomes the
// Content-Type header of downloads), that cleaning it again keeps it, and that a type is only
// ever guessed from the name when the client sent none that parses.
func FuzzCleanType(f *testing.F) {
	for _, s := range [][2]string{{"image/png", "a.png"}, {"text/html; charset=utf-8", "x.html"}, {"", "index.html"},
		{"IMAGE/SVG+XML", "x.svg"}, {"application/x-msdownload", "a.exe"}, {"garbage", "a.js"}, {"a/b\r\nX-Evil: 1", "x"},
		{`multipart/form-data; boundary="x"`, ""}, {"", "noext"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, ct, name string) {
		got := cleanType(ct, name)
		mt, params, err := mime.ParseMediaType(got)
		if err != nil || mt != got || len(params) != 0 || strings.Count(got, "/") != 1 || len(got) > 255 {
			t.Fatalf("cleanType(%q, %q) = %q: not a bare media type (%v)", ct, name, got, err)
		}
		for _, r := range got {
			if r <= ' ' || r >= 0x7f || r == '"' || r == ';' {
				t.Fatalf("cleanType(%q, %q) = %q has %q", ct, name, got, r)
			}
		}
		if again := cleanType(got, ""); again != got {
			t.Fatalf("cleanType(%q) = %q, not idempotent", got, again)
		}
		if sent, _, err := mime.ParseMediaType(ct); err == nil && strings.Contains(sent, "/") && len(sent) <= 255 && sent != got {
			t.Fatalf("cleanType(%q, %q) = %q: the client's well-formed type was replaced", ct, name, got)
		}
	})
}

// FuzzImagePreview checks the preview of uploaded images: an image whose
// header promises more than maxImagePixels is refused before its pixels
// are allocated, a decoded image has the size its header promised (else
// the header check could be bypassed), and a preview is a JPEG of at most
// thumbSize pixels a side.
func FuzzImagePreview(f *testing.F) {
	for _, p := range seedImages(f) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		hdr, _, hdrErr := image.DecodeConfig(bytes.NewReader(data))
		over := hdrErr == nil && int64(hdr.Width)*int64(hdr.Height) > maxImagePixels
		var thumb []byte
		used := allocated(func() { _, _, thumb, _ = preview(context.Background(), data) })
		if over {
			if thumb != nil {
				t.Fatalf("a %dx%d image (over the pixel limit) got a preview", hdr.Width, hdr.Height)
			}
			if used > 1<<20 {
				t.Fatalf("refusing a %dx%d image allocated %d bytes", hdr.Width, hdr.Height, used)
			}
			return
		}
		var cfg image.Config
		var ok bool
		cfg.Width, cfg.Height, ok = decodedSize(data)
		if ok {
			if img, _, err := image.Decode(bytes.NewReader(data)); err == nil {
				if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
					t.Fatalf("the header says %dx%d, the image is %dx%d", cfg.Width, cfg.Height, b.Dx(), b.Dy())
				}
			}
		}
		if thumb == nil {
			return
		}
		if !ok {
			t.Fatal("a preview of what decodedSize refuses")
		}
		img, err := jpeg.Decode(bytes.NewReader(thumb))
		if err != nil {
			t.Fatalf("the preview is not a JPEG: %v", err)
		}
		b := img.Bounds()
		if b.Dx() < 1 || b.Dy() < 1 || b.Dx() > thumbSize || b.Dy() > thumbSize {
			t.Fatalf("a %dx%d image got a %dx%d preview", cfg.Width, cfg.Height, b.Dx(), b.Dy())
		}
		if (cfg.Width >= cfg.Height) != (b.Dx() >= b.Dy()) && cfg.Width != cfg.Height && b.Dx() != b.Dy() {
			t.Fatalf("a %dx%d image got a %dx%d preview: orientation changed", cfg.Width, cfg.Height, b.Dx(), b.Dy())
		}
	})
}

// seedImages are small real images of each decoded format, plus headers
// that promise a huge image with no pixels behind them.
func seedImages(t testing.TB) [][]byte {
	src := image.NewNRGBA(image.Rect(0, 0, 40, 20))
	for x := range 40 {
		for y := range 20 {
			src.Set(x, y, color.NRGBA{uint8(x * 6), uint8(y * 12), 200, uint8(255 - x)})
		}
	}
	var out [][]byte
	var b bytes.Buffer
	if err := png.Encode(&b, src); err != nil {
		t.Fatal(err)
	}
	out = append(out, bytes.Clone(b.Bytes()))
	b.Reset()
	if err := jpeg.Encode(&b, src, nil); err != nil {
		t.Fatal(err)
	}
	out = append(out, bytes.Clone(b.Bytes()))
	b.Reset()
	if err := gif.Encode(&b, src, nil); err != nil {
		t.Fatal(err)
	}
	out = append(out, bytes.Clone(b.Bytes()))
	// A PNG header for 100000x100000 pixels, and a GIF screen of 65535².
	bomb := bytes.Clone(out[0])
	copy(bomb[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	binary.BigEndian.PutUint32(bomb[29:33], crc32.ChecksumIEEE(bomb[12:29]))
	out = append(out, bomb)
	gifBomb := bytes.Clone(out[2])
	copy(gifBomb[6:10], []byte{0xff, 0xff, 0xff, 0xff})
	return append(out, gifBomb)
}
