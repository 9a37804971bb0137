package email

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
	"github.com/parley-chat/parley/channel/email/emailtest"
)

// A message over maxFetch arrives as its headers and a note.
func TestPollTooLarge(t *testing.T) {
	defer func(n int64) { maxFetch = n }(maxFetch)
	maxFetch = 4 << 10
	srv := emailtest.NewIMAP(t, emailtest.IMAPOptions{})
	srv.Append(t, emailtest.Message{From: "ann@example.org", Subject: "video", MessageID: "big@example.org", Text: "see the video",
		Files: []emailtest.File{{Name: "v.mp4", ContentType: "video/mp4", Data: make([]byte, 8<<10)}}}.Bytes())
	srv.Append(t, emailtest.Message{From: "ann@example.org", Subject: "small", MessageID: "small@example.org", Text: "small"}.Bytes())
	a := &Adapter{TLSConfig: emailtest.ClientTLS()}
	ch := &parley.Channel{Settings: map[string]string{"address": "support@example.com", "imap_server": srv.URL(),
		"smtp_server": "smtp://127.0.0.1:1"}, Secrets: map[string]string{"imap_password": "secret"}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []channel.InMessage
	a.Poll(ctx, ch, func(_ context.Context, in *channel.Inbound) error {
		got = append(got, in.Messages...)
		if len(got) == 2 {
			cancel()
		}
		return nil
	})
	if len(got) != 2 {
		t.Fatalf("got %+v", got)
	}
	big := got[0]
	if big.ExternalID != "big@example.org" || big.Subject != "video" || len(big.Files) != 0 ||
		!strings.Contains(big.Text, "more than the 0 MB Parley fetches") {
		t.Errorf("large message: %+v", big)
	}
	if got[1].Text != "small" {
		t.Errorf("small message: %+v", got[1])
	}
}
