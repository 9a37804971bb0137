package telegram_test

import (
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel/channeltest"
	"github.com/parley-chat/parley/channel/telegram"
)

// FuzzWebhook checks a Telegram webhook call: with the channel's secret
// token any body is read or refused with a 4xx, never a panic or an
// internal error, and what is read is sound (channeltest.Webhook); with
// any other token the call is refused.
func FuzzWebhook(f *testing.F) {
	f.Add([]byte(`{"update_id":1,"message":{"message_id":2,"date":1700000000,"chat":{"id":42,"type":"private","first_name":"Ann"},"text":"hi"}}`), "wrong")
	f.Fuzz(func(t *testing.T, body []byte, token string) {
		const secret, hook = "0f8c2b7e-webhook-secret", "https://parley.example/api/v1/channels/3/webhook"
		a := telegram.New(nil)
		ch := &parley.Channel{ID: 3, Kind: parley.ChannelTelegram, Secrets: map[string]string{"token": "123:abc", "webhook_secret": secret}}
		if _, err := channeltest.Webhook(t, a, ch, channeltest.Call("POST", hook, body, "X-Telegram-Bot-Api-Secret-Token", secret)); channeltest.Refused(err) {
			t.Fatalf("the right token refused: %v", err)
		}
		if token != secret {
			_, err := channeltest.Webhook(t, a, ch, channeltest.Call("POST", hook, body, "X-Telegram-Bot-Api-Secret-Token", token))
			if !channeltest.Refused(err) {
				t.Fatalf("token %q: %v, want a signature refusal", token, err)
			}
		}
	})
}
