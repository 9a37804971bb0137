package messaging

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"io"

	_ "image/gif" // decoders for previews
	_ "image/png"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/riff"
	"golang.org/x/image/vp8"
	"golang.org/x/image/vp8l"
	_ "golang.org/x/image/webp"
	"golang.org/x/sync/semaphore"
)

// thumbSize bounds the longer side of an image preview.
const thumbSize = 320

// maxImagePixels is the largest image decoded for a preview: 50 million
// pixels (a 50-megapixel phone photo). A decoded image takes 1.5 to 8
// bytes a pixel, so a few-kilobyte file whose header claims 50,000 ×
// 50,000 (a decompression bomb) would want gigabytes; such files are kept
// as plain files, without a preview, and never decoded.
const maxImagePixels = 50_000_000

// decoding bounds the pixels being decoded at once, process-wide, to one
// largest image: concurrent uploads of big photos wait their turn rather
// than add up.
var decoding = semaphore.NewWeighted(maxImagePixels)

// preview reads an uploaded image's size from its header and, when it is
// small enough to decode, makes its JPEG preview. ok is false for data that
// is not an image this server decodes, or one over the pixel limit: such a
// file has neither size nor preview.
func preview(ctx context.Context, data []byte) (w, h int, thumb []byte, ok bool) {
	w, h, ok = decodedSize(data)
	if !ok {
		return 0, 0, nil, false
	}
	n := int64(w) * int64(h)
	if err := decoding.Acquire(ctx, n); err != nil {
		return w, h, nil, true
	}
	defer decoding.Release(n)
	return w, h, makeThumb(data), true
}

// decodedSize is the size the decoder would allocate for data, or !ok if
// that is over maxImagePixels (or data is no image). It reads headers
// only. PNG, JPEG and GIF decode at the size their header gives (Go's
// decoders refuse frames outside it); a WebP's VP8X header gives a canvas
// size that its frame need not match, so each frame's own header is read.
func decodedSize(data []byte) (w, h int, ok bool) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || !within(cfg.Width, cfg.Height) {
		return 0, 0, false
	}
	if format == "webp" && !webpFramesMatch(data, cfg.Width, cfg.Height) {
		return 0, 0, false
	}
	return cfg.Width, cfg.Height, true
}

func within(w, h int) bool {
	return w > 0 && h > 0 && int64(w)*int64(h) <= maxImagePixels
}

// webpFramesMatch reports whether every image chunk of a WebP file has the
// size its header announced (what valid still images have).
func webpFramesMatch(data []byte, w, h int) bool {
	_, r, err := riff.NewReader(bytes.NewReader(data))
	if err != nil {
		return false
	}
	for {
		id, n, chunk, err := r.Next()
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
		var cw, ch int
		switch id {
		case riff.FourCC{'V', 'P', '8', ' '}:
			d := vp8.NewDecoder()
			d.Init(chunk, int(n))
			fh, err := d.DecodeFrameHeader()
			if err != nil {
				return false
			}
			cw, ch = fh.Width, fh.Height
		case riff.FourCC{'V', 'P', '8', 'L'}:
			c, err := vp8l.DecodeConfig(chunk)
			if err != nil {
				return false
			}
			cw, ch = c.Width, c.Height
		default:
			continue
		}
		if cw != w || ch != h {
			return false
		}
	}
}

// makeThumb decodes an image and scales it to at most thumbSize; nil if
// it does not decode, is over the pixel limit (checked again here, so no
// caller can skip it), or decodes to another size than its header gave.
func makeThumb(data []byte) []byte {
	hw, hh, ok := decodedSize(data)
	if !ok {
		return nil
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w == 0 || h == 0 || w != hw || h != hh {
		return nil
	}
	scale := min(1, float64(thumbSize)/float64(max(w, h)))
	tw, th := max(1, int(float64(w)*scale)), max(1, int(float64(h)*scale))
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	// White behind transparent pixels, as JPEG has no alpha.
	for i := range dst.Pix {
		dst.Pix[i] = 0xff
	}
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), img, b, xdraw.Over, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 82}); err != nil {
		return nil
	}
	return buf.Bytes()
}
