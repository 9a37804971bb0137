package staffsms_test

import (
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/staffsms"
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{"", "", false},
		{"+15551234567", "+15551234567", false},
		{" +44 (20) 7946-0958 ", "+442079460958", false},
		{"+7 912.345.67.89", "+79123456789", false},
		{"020 7946 0958", "", true},     // no country code
		{"+0123456789", "", true},       // country codes do not start with 0
		{"+12345", "", true},            // too short
		{"+1234567890123456", "", true}, // longer than E.164's 15 digits
		{"+1555CALLNOW", "", true},
	}
	for _, tt := range tests {
		got, err := staffsms.NormalizePhone(tt.in)
		if tt.bad {
			if parley.ErrorCode(err) != parley.EINVALID {
				t.Errorf("NormalizePhone(%q) = %q, %v; want invalid", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
