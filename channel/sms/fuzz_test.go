package sms_test

import (
	"bytes"
	"maps"
	"net/url"
	"slices"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel/channeltest"
	"github.com/parley-chat/parley/channel/sms"
)

// FuzzWebhook checks Twilio's webhook calls: a form signed with the auth
// token is read or refused with a 4xx and what is read is sound
// (channeltest.Webhook); the signature never passes for a body whose
// parameters differ in any way (Twilio signs the parameters, so a change
// that leaves them equal, such as their order, may pass), nor for another
// token or another URL.
func FuzzWebhook(f *testing.F) {
	f.Add([]byte("MessageSid=SM1&From=%2B15551230001&Body=hi"), uint16(3))
	f.Fuzz(func(t *testing.T, body []byte, flip uint16) {
		const hook = "https://parley.example/api/v1/channels/5/webhook"
		a := sms.New(nil)
		ch := &parley.Channel{ID: 5, Kind: parley.ChannelSMS,
			Settings: map[string]string{sms.SettingBaseURL: "http://127.0.0.1:1", sms.SettingAccountSID: "AC0123456789abcdef0123456789abcdef", sms.SettingFrom: "+15550001111"},
			Secrets:  map[string]string{sms.SecretAuthToken: authToken}}
		params, perr := url.ParseQuery(string(body))
		sig := sms.Signature(authToken, hook, params)
		_, err := channeltest.Webhook(t, a, ch, channeltest.Call("POST", hook, body, "X-Twilio-Signature", sig, "Content-Type", "application/x-www-form-urlencoded"))
		if perr == nil && channeltest.Refused(err) {
			t.Fatalf("a signed call refused: %v", err)
		}
		if len(body) > 0 {
			changed := bytes.Clone(body)
			changed[int(flip)%len(changed)] ^= byte(1 << (flip % 8))
			if p2, err := url.ParseQuery(string(changed)); err == nil && !sameParams(params, p2) {
				_, err := channeltest.Webhook(t, a, ch, channeltest.Call("POST", hook, changed, "X-Twilio-Signature", sig))
				if !channeltest.Refused(err) {
					t.Fatalf("changed parameters %v passed the signature of %v: %v", p2, params, err)
				}
			}
		}
		if _, err := channeltest.Webhook(t, a, ch, channeltest.Call("POST", hook, body, "X-Twilio-Signature", sms.Signature(authToken+"x", hook, params))); !channeltest.Refused(err) {
			t.Fatalf("another token's signature passed: %v", err)
		}
		if _, err := channeltest.Webhook(t, a, ch, channeltest.Call("POST", hook+"x", body, "X-Twilio-Signature", sig)); !channeltest.Refused(err) {
			t.Fatalf("a signature for another URL passed: %v", err)
		}
		// A GET webhook carries its parameters in the URL, which is signed.
		get := channeltest.Call("GET", hook, nil)
		get.URL.RawQuery = string(body)
		get.Header.Set("X-Twilio-Signature", sms.Signature(authToken, get.URL.String(), nil))
		channeltest.Webhook(t, a, ch, get)
	})
}

// sameParams reports whether two forms have the same values for each name,
// in any order (what Twilio's signature covers).
func sameParams(a, b url.Values) bool {
	norm := func(v url.Values) map[string][]string {
		m := map[string][]string{}
		for k, vs := range v {
			m[k] = slices.Sorted(slices.Values(vs))
		}
		return m
	}
	return maps.EqualFunc(norm(a), norm(b), slices.Equal)
}
