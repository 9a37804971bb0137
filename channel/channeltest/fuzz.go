// Package channeltest holds what the channel adapters' fuzz targets share:
// the properties every webhook call must meet, however malformed.
package channeltest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
)

// Webhook hands r to the adapter, fails t unless what it returns is
// sound, and returns it. Sound is: a refusal is channel.ErrSignature or
// an error the API answers with a 4xx (the service makes a 400 of errors
// of other types; a parley internal error, a 500 that makes the service
// retry forever, must not come from a payload); an accepted call names,
// for every message, the customer and the service's id that redeliveries
// are recognised by, and every status names its message and is one
// Parley knows.
func Webhook(t testing.TB, a channel.Adapter, ch *parley.Channel, r *channel.Request) (*channel.Inbound, error) {
	t.Helper()
	in, err := a.Webhook(context.Background(), ch, r)
	if err != nil {
		if in != nil {
			t.Fatalf("an error (%v) and an answer %+v", err, in)
		}
		if pe := (*parley.Error)(nil); errors.As(err, &pe) && pe.Code == parley.EINTERNAL {
			t.Fatalf("an internal error for a payload: %v", err)
		}
		return nil, err
	}
	if in == nil {
		t.Fatal("no error and no answer")
	}
	if resp := in.Response; resp != nil && (resp.Status < 200 || resp.Status >= 300) {
		t.Fatalf("an accepted call answered %d", resp.Status)
	}
	for i, m := range in.Messages {
		if m.From == "" || m.ExternalID == "" {
			t.Fatalf("message %d has no sender or id: %+v", i, m)
		}
		for _, f := range m.Files {
			if f.Open == nil {
				t.Fatalf("message %d has a file without a reader: %+v", i, f)
			}
		}
	}
	for i, s := range in.Statuses {
		if s.ExternalID == "" && (s.From == "" || s.Watermark.IsZero()) {
			t.Fatalf("status %d names no message: %+v", i, s)
		}
		switch s.Status {
		case parley.StatusDelivered, parley.StatusRead, parley.StatusFailed, parley.StatusSent:
		default:
			t.Fatalf("status %d is %q", i, s.Status)
		}
	}
	return in, nil
}

// Refused reports whether err is a webhook's refusal of a call's
// signature or secret.
func Refused(err error) bool { return errors.Is(err, channel.ErrSignature) }

// Call is a webhook call with the given headers (name, value, ...).
func Call(method, rawURL string, body []byte, header ...string) *channel.Request {
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	return &channel.Request{Method: method, URL: u, Header: h, Body: body}
}
