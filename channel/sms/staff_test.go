package sms_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley/channel/sms"
)

func TestSegments(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"", 0},
		{"hello", 1},
		{strings.Repeat("a", 160), 1},
		{strings.Repeat("a", 161), 2},
		{strings.Repeat("a", 306), 2},
		{strings.Repeat("a", 307), 3},
		{strings.Repeat("€", 80), 1}, // extension characters take two slots
		{strings.Repeat("€", 81), 2},
		{strings.Repeat("ж", 70), 1}, // outside GSM: UCS-2
		{strings.Repeat("ж", 71), 2},
		{strings.Repeat("a", 100) + "ж", 2},
		{strings.Repeat("😀", 35), 1}, // two UTF-16 units each
		{strings.Repeat("😀", 36), 2},
	}
	for _, tt := range tests {
		if got := sms.Segments(tt.text); got != tt.want {
			t.Errorf("Segments(%d × %q) = %d, want %d", len([]rune(tt.text)), []rune(tt.text + " ")[0], got, tt.want)
		}
	}
}
