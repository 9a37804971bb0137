// Package jsontext checks JSON text for what encoding/json accepts but
// silently changes: invalid UTF-8 and unpaired UTF-16 surrogate escapes
// ("\ud800"), which it stores as U+FFFD. Every decoder of client JSON
// calls Check first, so such input is refused rather than altered.
package jsontext

import (
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

// Check returns an EINVALID error naming field when data is not valid
// UTF-8 or has a \u escape of a surrogate half that is not part of a
// high-low pair.
func Check(data []byte, field string) error {
	if !utf8.Valid(data) {
		return parley.Invalid(field, "the %s is not valid UTF-8", field)
	}
	for i := 0; i < len(data); i++ {
		if data[i] != '\\' {
			continue
		}
		// A backslash outside a string is a syntax error the decoder
		// reports; inside one it starts an escape of one character
		// or of \uXXXX.
		i++
		if i >= len(data) || data[i] != 'u' {
			continue
		}
		r, ok := hex4(data, i+1)
		if !ok {
			continue // malformed: the decoder says so
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			low, ok := hex4(data, i+7)
			if !ok || data[i+5] != '\\' || data[i+6] != 'u' || low < 0xDC00 || low > 0xDFFF {
				return parley.Invalid(field, "the %s has an unpaired surrogate escape (\\u%04x): text must be valid Unicode", field, r)
			}
			i += 10 // the pair
		case r >= 0xDC00 && r <= 0xDFFF:
			return parley.Invalid(field, "the %s has an unpaired surrogate escape (\\u%04x): text must be valid Unicode", field, r)
		default:
			i += 4
		}
	}
	return nil
}

// hex4 reads the four hex digits at data[i:i+4].
func hex4(data []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
