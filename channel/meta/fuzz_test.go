package meta_test

import (
	"bytes"
	"net/url"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
	"github.com/parley-chat/parley/channel/channeltest"
	"github.com/parley-chat/parley/channel/meta"
	"github.com/parley-chat/parley/channel/meta/metafake"
)

// FuzzWebhook checks the WhatsApp, Messenger and Instagram webhooks (kind
// picks one): a body signed with the app secret is read or refused with a
// 4xx and what is read is sound (channeltest.Webhook); the same signature
// never passes for a body with any byte changed, nor for a body signed
// with another secret; and the GET handshake answers the challenge only
// for the channel's verify token.
func FuzzWebhook(f *testing.F) {
	f.Add(uint8(0), []byte(`{"object":"whatsapp_business_account","entry":[]}`), uint16(5), "hub.mode=subscribe&hub.verify_token=x&hub.challenge=1")
	f.Fuzz(func(t *testing.T, kind uint8, body []byte, flip uint16, query string) {
		const hook = "https://parley.example/api/v1/channels/7/webhook"
		kinds := []struct {
			kind    string
			adapter channel.Adapter
			setting string
			id      string
		}{
			{parley.ChannelWhatsApp, meta.WhatsApp(nil), meta.SettingPhoneNumberID, metafake.PhoneNumberID},
			{parley.ChannelMessenger, meta.Messenger(nil), meta.SettingPageID, metafake.PageID},
			{parley.ChannelInstagram, meta.Instagram(nil), meta.SettingAccountID, metafake.InstagramID},
		}
		k := kinds[int(kind)%len(kinds)]
		ch := &parley.Channel{ID: 7, Kind: k.kind, Settings: map[string]string{meta.SettingBaseURL: "http://127.0.0.1:1", k.setting: k.id},
			Secrets: map[string]string{meta.SecretAccessToken: token, meta.SecretAppSecret: appSecret, meta.SecretVerifyToken: verifyToken}}
		sig := metafake.Sign(body, appSecret)
		if _, err := channeltest.Webhook(t, k.adapter, ch, channeltest.Call("POST", hook, body, "X-Hub-Signature-256", sig)); channeltest.Refused(err) {
			t.Fatalf("a signed call refused: %v", err)
		}
		if len(body) > 0 {
			changed := bytes.Clone(body)
			changed[int(flip)%len(changed)] ^= byte(1 << (flip % 8))
			if _, err := channeltest.Webhook(t, k.adapter, ch, channeltest.Call("POST", hook, changed, "X-Hub-Signature-256", sig)); !channeltest.Refused(err) {
				t.Fatalf("a changed body passed the signature: %v", err)
			}
		}
		if _, err := channeltest.Webhook(t, k.adapter, ch, channeltest.Call("POST", hook, body, "X-Hub-Signature-256", metafake.Sign(body, appSecret+"x"))); !channeltest.Refused(err) {
			t.Fatalf("a body signed with another secret passed: %v", err)
		}
		get := channeltest.Call("GET", hook, nil)
		get.URL.RawQuery = query
		in, err := channeltest.Webhook(t, k.adapter, ch, get)
		q, _ := url.ParseQuery(query)
		if err == nil {
			if q.Get("hub.verify_token") != verifyToken || q.Get("hub.mode") != "subscribe" {
				t.Fatalf("handshake %q accepted", query)
			}
			if in.Response == nil || string(in.Response.Body) != q.Get("hub.challenge") {
				t.Fatalf("handshake %q answered %+v", query, in.Response)
			}
		}
	})
}
