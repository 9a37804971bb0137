package blob

import (
	"io"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

func TestCheckKey(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"files/01hx3k", true},
		{"thumbs/01hx3k.webp", true},
		{"a", true},
		{"0", true},
		{"a.b-c_d/0e.f", true},
		{"a..b", true}, // ".." inside a name is not a parent reference
		{strings.Repeat("a/", 511) + "bb", true},
		{"x/" + strings.Repeat("a", 255), true},

		{"", false},
		{strings.Repeat("a/", 512) + "b", false},
		{"x/" + strings.Repeat("a", 256), false},
		{"/a", false},
		{"a/", false},
		{"a//b", false},
		{"..", false},
		{"../a", false},
		{"a/../b", false},
		{"a/..", false},
		{".", false},
		{"a/./b", false},
		{".a", false},
		{"a/.b", false},
		{"a/_b", false},
		{"-a", false},
		{"A", false},
		{"a b", false},
		{`a\b`, false},
		{"a\x00", false},
		{"ü", false},
	}
	for _, tt := range tests {
		err := checkKey(tt.key)
		if tt.ok && err != nil {
			t.Errorf("checkKey(%.40q) = %v, want nil", tt.key, err)
		}
		if !tt.ok && parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("checkKey(%.40q) = %v, want EINVALID", tt.key, err)
		}
	}
}

func TestCleanContentType(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"text/plain", "text/plain", true},
		{"  image/png ", "image/png", true},
		{"text/plain; charset=UTF-8", "text/plain; charset=UTF-8", true},
		{"", "application/octet-stream", true},
		{"   ", "application/octet-stream", true},
		{"text/plain\n", "text/plain", true}, // surrounding space, newline included, is trimmed
		{"text/plain\nx: y", "", false},
		{"text/plain\x00", "", false},
		{"tëxt/plain", "", false},
		{"plain", "", false},
		{"text/", "", false},
		{"/plain", "", false},
		{"a/" + strings.Repeat("b", 254), "", false},
	}
	for _, tt := range tests {
		got, err := cleanContentType(tt.in)
		if tt.ok && (err != nil || got != tt.want) {
			t.Errorf("cleanContentType(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if !tt.ok && parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("cleanContentType(%q) = %q, %v; want EINVALID", tt.in, got, err)
		}
	}
}

// TestExactReaderWithholdsLastChunk checks the property S3 uploads rely on:
// a source longer than size never delivers all size bytes, so no consumer
// can commit a complete body.
func TestExactReaderWithholdsLastChunk(t *testing.T) {
	tests := []struct {
		data     string
		size     int64
		wantCode string
	}{
		{"abcdef", 6, ""},
		{"abcdefg", 6, parley.EINVALID},
		{"abcde", 6, parley.EINVALID},
		{"", 0, ""},
		{"a", 0, parley.EINVALID},
	}
	for _, tt := range tests {
		// One byte at a time, so the check happens at the boundary.
		er := newExactReader(strings.NewReader(tt.data), tt.size)
		var got []byte
		var err error
		buf := make([]byte, 1)
		for {
			var n int
			n, err = er.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				break
			}
		}
		if err == io.EOF {
			err = nil
		}
		if code := parley.ErrorCode(err); code != tt.wantCode {
			t.Errorf("%q with size %d: error %v, want code %q", tt.data, tt.size, err, tt.wantCode)
		}
		if tt.wantCode != "" && int64(len(got)) >= tt.size && tt.size > 0 {
			t.Errorf("%q with size %d: delivered %d bytes before failing, want fewer than size", tt.data, tt.size, len(got))
		}
	}
}
