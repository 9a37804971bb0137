package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel/channeltest"
)

// FuzzWebhook checks the API channel's webhook: with the channel's token
// any body is read or refused with a 4xx and what is read is sound
// (channeltest.Webhook); another token is refused; and what decodes
// encodes back to a body that decodes to the same events.
func FuzzWebhook(f *testing.F) {
	f.Add([]byte(`{"type":"message","message":{"id":"m1","from":{"id":"c1","name":"Ann"},"text":"hi"}}`), "Bearer x")
	f.Fuzz(func(t *testing.T, body []byte, auth string) {
		const token, hook = "tok_5b0f1c9e8d7a", "https://parley.example/api/v1/channels/9/webhook"
		a := New(nil)
		ch := &parley.Channel{ID: 9, Kind: parley.ChannelAPI, Settings: map[string]string{SettingURL: "http://127.0.0.1:1/replies"},
			Secrets: map[string]string{SecretToken: token, SecretSigningSecret: "whsec"}}
		if _, err := channeltest.Webhook(t, a, ch, channeltest.Call("POST", hook, body, "Authorization", "Bearer "+token)); channeltest.Refused(err) {
			t.Fatalf("the channel's token refused: %v", err)
		}
		if _, err := channeltest.Webhook(t, a, ch, channeltest.Call("POST", hook, body, "Authorization", auth)); !channeltest.Refused(err) &&
			!(len(auth) >= 7 && strings.EqualFold(auth[:7], "Bearer ") && strings.TrimSpace(auth[7:]) == token) {
			t.Fatalf("Authorization %q passed: %v", auth, err)
		}
		events, _, err := decode(body)
		if err != nil {
			return
		}
		again, err := json.Marshal(Batch{Events: events})
		if err != nil {
			t.Fatalf("encoding %+v: %v", events, err)
		}
		back, _, err := decode(again)
		if err != nil || !reflect.DeepEqual(back, events) {
			t.Fatalf("round trip of %s:\n%s\n%+v\n%+v (%v)", body, again, events, back, err)
		}
	})
}
