package sms

import (
	"context"
	"net/url"
	"strings"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
)

// The channel's client used for Parley's own texts to staff ("Send SMS"
// to a colleague, package staffsms): the same account, sender, checks and
// error words as a dialog's reply, with its own status callback URL.

// SendText sends text to the phone number to from the channel's sender
// and returns Twilio's message SID. Twilio reports the message's progress
// to statusURL ("": no reports).
func (a *Adapter) SendText(ctx context.Context, ch *parley.Channel, to, text, statusURL string) (string, error) {
	if err := sender(ch); err != nil {
		return "", err
	}
	if err := checkText(text); err != nil {
		return "", err
	}
	if strings.TrimSpace(text) == "" {
		return "", channel.Refused("21602", "an SMS needs a text")
	}
	form := url.Values{"To": {to}, "Body": {text}}
	if from := ch.Settings[SettingFrom]; from != "" {
		form.Set("From", from)
	} else {
		form.Set("MessagingServiceSid", ch.Settings[SettingMessagingServiceSID])
	}
	if statusURL != "" {
		form.Set("StatusCallback", statusURL)
	}
	return a.create(ctx, ch, form)
}

// TextStatus is a status callback for a text sent with SendText.
type TextStatus struct {
	SID string
	// Status is parley.SMSQueued, SMSSent, SMSDelivered or SMSFailed;
	// "" for a report of no interest.
	Status string
	// Error says why a failed message was not delivered.
	Error string
}

// TextStatusCallback checks Twilio's signature on a status callback (made
// with the channel's auth token) and reads it.
func (a *Adapter) TextStatusCallback(ch *parley.Channel, r *channel.Request) (TextStatus, error) {
	params, err := a.verify(ch, r)
	if err != nil {
		return TextStatus{}, err
	}
	st := TextStatus{SID: params.Get("MessageSid")}
	if st.SID == "" {
		return st, parley.Invalid("MessageSid", "a Twilio call without a MessageSid")
	}
	switch params.Get("MessageStatus") {
	case "queued", "accepted", "scheduled":
		st.Status = parley.SMSQueued
	case "sending", "sent":
		st.Status = parley.SMSSent
	case "delivered", "read":
		st.Status = parley.SMSDelivered
	case "undelivered", "failed":
		st.Status, st.Error = parley.SMSFailed, failure(params.Get("ErrorCode"))
	case "canceled":
		st.Status, st.Error = parley.SMSFailed, "canceled before it was sent"
	}
	return st, nil
}

// Segments is how many SMS a text takes: 160 characters in one (153 per
// part when split) in the GSM 7-bit alphabet, 70 (67 per part) in UCS-2
// once any character is outside it, counted in UTF-16 units. Characters of
// the GSM extension table (€ [ ] { } ...) take two 7-bit slots.
func Segments(text string) int {
	if text == "" {
		return 0
	}
	units, gsm := 0, true
	for _, r := range text {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			units++
		case strings.ContainsRune(gsmExtension, r):
			units += 2
		default:
			gsm = false
		}
	}
	one, part := 160, 153
	if !gsm {
		units, one, part = utf16Len(text), 70, 67
	}
	if units <= one {
		return 1
	}
	return (units + part - 1) / part
}

// The GSM 03.38 alphabet: its basic table and the characters its
// extension table adds (each sent as an escape and the character).
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "\f^{}\\[~]|€"
)
