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
	"runtime"
	"testing"
)

// pngChunk is one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	return b.Bytes()
}

// pngBomb is a PNG of a few hundred bytes whose header claims w×h RGBA.
func pngBomb(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	b.Write(pngChunk("IHDR", ihdr))
	// Compressed zeros: the first rows of the promised image.
	b.Write(pngChunk("IDAT", []byte{0x78, 0x9c, 0xed, 0xc1, 0x01, 0x0d, 0x00, 0x00, 0x00, 0xc2, 0xa0, 0xf7, 0x4f, 0x6d, 0x0e, 0x37, 0xa0, 0x00, 0x00}))
	b.Write(pngChunk("IEND", nil))
	return b.Bytes()
}

// jpegClaiming encodes a small JPEG, then rewrites its frame header to claim w×h.
func jpegClaiming(t *testing.T, w, h uint16) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 16, 16)), nil); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	i := bytes.Index(data, []byte{0xff, 0xc0}) // SOF0: marker, length(2), precision(1), height(2), width(2)
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	binary.BigEndian.PutUint16(data[i+5:], h)
	binary.BigEndian.PutUint16(data[i+7:], w)
	return data
}

// gifClaiming encodes a small GIF whose logical screen claims w×h.
func gifClaiming(t *testing.T, w, h uint16) []byte {
	var b bytes.Buffer
	if err := gif.Encode(&b, image.NewPaletted(image.Rect(0, 0, 8, 8), color.Palette{color.Black, color.White}), nil); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	binary.LittleEndian.PutUint16(data[6:], w)
	binary.LittleEndian.PutUint16(data[8:], h)
	return data
}

// webpCanvasLie is a WebP whose VP8X header claims a 1×1 canvas over a
// lossless frame whose own header says 16,383 × 16,383: the decoder
// allocates by the frame (a gigabyte), DecodeConfig reports the canvas.
func webpCanvasLie() []byte {
	var body bytes.Buffer
	body.WriteString("WEBP")
	body.WriteString("VP8X")
	binary.Write(&body, binary.LittleEndian, uint32(10))
	body.Write(make([]byte, 10)) // no flags; canvas (0+1)×(0+1)
	frame := []byte{0x2f, 0, 0, 0, 0, 0, 0, 0}
	// 14 bits width-1, 14 bits height-1, alpha, version 0, little-endian bits.
	binary.LittleEndian.PutUint32(frame[1:], 16382|16382<<14)
	body.WriteString("VP8L")
	binary.Write(&body, binary.LittleEndian, uint32(len(frame)))
	body.Write(frame)
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(body.Len()))
	b.Write(body.Bytes())
	return b.Bytes()
}

// allocated is how many bytes fn allocated (the process's running total,
// not the heap's size at some instant, so a freed buffer still counts).
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestPreviewRefusesBombs: images whose headers promise more pixels than
// the limit get no preview and are never decoded, so memory stays flat
// (measured by bytes allocated, not by time); a large real image, decoded,
// shows that the measure sees decoding.
func TestPreviewRefusesBombs(t *testing.T) {
	ctx := context.Background()
	// The control: a 4000×4000 PNG (a few kilobytes, one colour) decodes to 64 MB.
	big := image.NewGray(image.Rect(0, 0, 4000, 4000))
	var buf bytes.Buffer
	if err := png.Encode(&buf, big); err != nil {
		t.Fatal(err)
	}
	var ok bool
	var thumb []byte
	n := allocated(func() { _, _, thumb, ok = preview(ctx, buf.Bytes()) })
	if !ok || thumb == nil {
		t.Fatal("a 4000×4000 image gets no preview")
	}
	if n < 16<<20 {
		t.Fatalf("decoding 16 million pixels allocated only %d bytes: the measure cannot see decoding", n)
	}
	t.Logf("a 4000×4000 PNG of %d bytes: preview made, %d MB allocated", buf.Len(), n>>20)

	for _, c := range []struct {
		name string
		data []byte
	}{
		{"PNG 50,000 × 50,000", pngBomb(50_000, 50_000)},
		{"PNG 2^31-1 × 2^31-1", pngBomb(1<<31-1, 1<<31-1)},
		{"PNG 1 × 60,000,000", pngBomb(1, 60_000_000)},
		{"JPEG 65,000 × 65,000", jpegClaiming(t, 65_000, 65_000)},
		{"GIF 65,535 × 65,535", gifClaiming(t, 65_535, 65_535)},
		{"WebP 1×1 canvas over a 16,383² frame", webpCanvasLie()},
	} {
		var w, h int
		var thumb []byte
		var ok bool
		n := allocated(func() { w, h, thumb, ok = preview(ctx, c.data) })
		if ok || w != 0 || h != 0 || thumb != nil {
			t.Errorf("%s (%d bytes): preview gave %d×%d, ok %v, a %d-byte thumbnail", c.name, len(c.data), w, h, ok, len(thumb))
		}
		if n > 1<<20 {
			t.Errorf("%s (%d bytes): %d bytes allocated", c.name, len(c.data), n)
		}
		t.Logf("%s, %d bytes: refused, %d KB allocated", c.name, len(c.data), n>>10)
	}

	// At the limit, a real image is still previewed: 10,000 × 5,000.
	if w, h, ok := decodedSize(pngBomb(10_000, 5_000)); !ok || w != 10_000 || h != 5_000 {
		t.Errorf("50 million pixels: %d×%d ok %v", w, h, ok)
	}
	if _, _, ok := decodedSize(pngBomb(10_000, 5_001)); ok {
		t.Error("over 50 million pixels is decoded")
	}
}
