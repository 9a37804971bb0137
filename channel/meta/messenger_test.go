package meta_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
	"github.com/parley-chat/parley/channel/meta"
	"github.com/parley-chat/parley/channel/meta/metafake"
)

const (
	psid  = "6024913847562231"
	igsid = "7118392044471125"
)

func TestMessengerInbound(t *testing.T) {
	fake := newFake(t)
	a := meta.Messenger(nil)
	h := newHook(t, a, channelFor(fake, parley.ChannelMessenger))

	photo := bytes.Repeat([]byte{0xff, 0xd8}, 300)
	w := fake.MessengerMessages(
		metafake.FBMessage{From: psid, Text: "Hi, is this in stock?", ReplyTo: "m_OURS"},
		metafake.FBMessage{From: psid, File: photo, MimeType: "image/jpeg", FileName: "shoe.jpg"},
		metafake.FBMessage{From: psid, Text: "our own reply", Echo: true},
	)
	in := h.post(t, fake, w)
	if len(in.Messages) != 2 {
		t.Fatalf("messages (the echo must be left): %+v", in.Messages)
	}
	m := in.Messages[0]
	if m.ExternalID != w.IDs[0] || m.From != psid || m.Name != "" || m.Text != "Hi, is this in stock?" || m.ReplyTo != "m_OURS" {
		t.Fatalf("text: %+v", m)
	}
	m = in.Messages[1]
	if m.ExternalID != w.IDs[1] || len(m.Files) != 1 || m.Files[0].Name != "shoe.jpg" || m.Files[0].ContentType != "image/jpeg" {
		t.Fatalf("photo: %+v", m)
	}
	if got := read(t, m.Files[0]); !bytes.Equal(got, photo) {
		t.Fatalf("the photo has %d bytes", len(got))
	}
	if again := h.post(t, fake, w); again.Messages[0].ExternalID != in.Messages[0].ExternalID {
		t.Fatal("a redelivery got another id")
	}

	// Delivery and read watermarks: every message to the customer until
	// then; delivered mids by id as well.
	at := time.UnixMilli(time.Now().UnixMilli()).UTC()
	in = h.post(t, fake, fake.MessengerDelivery(psid, at, "m_1", "m_2"))
	want := []channel.StatusReport{
		{ExternalID: "m_1", From: psid, Status: parley.StatusDelivered},
		{ExternalID: "m_2", From: psid, Status: parley.StatusDelivered},
		{From: psid, Watermark: at, Status: parley.StatusDelivered},
	}
	if len(in.Statuses) != len(want) || len(in.Messages) != 0 {
		t.Fatalf("delivery: %+v", in)
	}
	for i := range want {
		if in.Statuses[i] != want[i] {
			t.Fatalf("delivery %d: %+v, want %+v", i, in.Statuses[i], want[i])
		}
	}
	in = h.post(t, fake, fake.MessengerRead(psid, at))
	if len(in.Statuses) != 1 || in.Statuses[0] != (channel.StatusReport{From: psid, Watermark: at, Status: parley.StatusRead}) {
		t.Fatalf("read: %+v", in.Statuses)
	}
}

// TestMessengerOtherPage: one Meta app's webhook carries all its pages;
// another page's events are not this channel's.
func TestMessengerOtherPage(t *testing.T) {
	fake := newFake(t)
	ch := channelFor(fake, parley.ChannelMessenger)
	ch.Settings[meta.SettingPageID] = "555"
	h := newHook(t, meta.Messenger(nil), ch)
	if in := h.post(t, fake, fake.MessengerMessages(metafake.FBMessage{From: psid, Text: "hi"})); len(in.Messages) != 0 {
		t.Fatalf("another page's message was taken: %+v", in.Messages)
	}
}

func TestMessengerSend(t *testing.T) {
	fake := newFake(t)
	a := meta.Messenger(nil)
	ch := channelFor(fake, parley.ChannelMessenger)
	ctx := context.Background()

	id, err := a.Send(ctx, ch, reply(psid, "Yes, size 42 is in stock."))
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 1 || sent[0].ID != id || sent[0].Product != metafake.Messenger || sent[0].To != psid || sent[0].Type != "text" ||
		sent[0].Text != "Yes, size 42 is in stock." || sent[0].MessagingType != "RESPONSE" || sent[0].Tag != "" {
		t.Fatalf("sent %+v", sent)
	}

	// Files: uploaded with the message without a link, sent by the link
	// with one (Meta fetches it).
	pdf := []byte("%PDF-1.4 size chart")
	png := bytes.Repeat([]byte{0x89, 'P'}, 200)
	links := fileServer(t, map[string][]byte{"chart.png": png}, "image/png")
	id, err = a.Send(ctx, ch, reply(psid, "see both", outFile("sizes.pdf", "application/pdf", pdf, ""),
		outFile("chart.png", "image/png", png, links.URL+"/chart.png")))
	if err != nil {
		t.Fatal(err)
	}
	sent = fake.Sent()[1:]
	if len(sent) != 3 || sent[0].Text != "see both" ||
		sent[1].Type != "file" || sent[1].FileName != "sizes.pdf" || sent[1].ContentType != "application/pdf" || !bytes.Equal(sent[1].File, pdf) ||
		sent[1].MessagingType != "RESPONSE" || sent[1].To != psid ||
		sent[2].Type != "image" || sent[2].Link != links.URL+"/chart.png" || !bytes.Equal(sent[2].File, png) || sent[2].ID != id {
		t.Fatalf("sent %+v", sent)
	}

	// A link Meta cannot fetch: refused, saying so.
	_, err = a.Send(ctx, ch, reply(psid, "", outFile("gone.png", "image/png", png, links.URL+"/gone.png")))
	if e := asError(t, err); e.Temporary || !strings.Contains(e.Message, "fetch") {
		t.Fatalf("a dead link: %+v", e)
	}

	// Over 2,000 characters: refused before it is stored, and by Send.
	long := strings.Repeat("é", 2001)
	if err := a.(channel.ReplyChecker).CheckReply(ch, &parley.Message{Text: long}); err == nil || !strings.Contains(err.Error(), "2,000 characters") {
		t.Fatalf("CheckReply: %v", err)
	}
	if _, err := a.Send(ctx, ch, reply(psid, long)); err == nil || asError(t, err).Temporary {
		t.Fatalf("Send: %v", err)
	}
}

// TestMessengerHumanAgent: with the human agent tag on, the window is 7
// days and every reply carries the tag.
func TestMessengerHumanAgent(t *testing.T) {
	fake := newFake(t)
	a := meta.Messenger(nil)
	ch := channelFor(fake, parley.ChannelMessenger)
	if w := a.(channel.Windowed).Window(ch); w != 24*time.Hour {
		t.Fatalf("window %s", w)
	}
	ch.Settings[meta.SettingHumanAgent] = "on"
	if w := a.(channel.Windowed).Window(ch); w != 7*24*time.Hour {
		t.Fatalf("window with the tag %s", w)
	}
	if _, err := a.Send(context.Background(), ch, reply(psid, "following up", outFile("a.pdf", "application/pdf", []byte("%PDF"), ""))); err != nil {
		t.Fatal(err)
	}
	for _, s := range fake.Sent() {
		if s.MessagingType != "MESSAGE_TAG" || s.Tag != "HUMAN_AGENT" {
			t.Fatalf("sent %+v", s)
		}
	}
}

func TestInstagramInbound(t *testing.T) {
	fake := newFake(t)
	a := meta.Instagram(nil)
	h := newHook(t, a, channelFor(fake, parley.ChannelInstagram))

	video := []byte("....ftypmp42")
	w := fake.InstagramMessages(
		metafake.FBMessage{From: igsid, Text: "Do you ship to Spain?"},
		metafake.FBMessage{From: igsid, File: video, MimeType: "video/mp4", FileType: "video"},
		metafake.FBMessage{From: igsid, Text: "echo", Echo: true},
	)
	in := h.post(t, fake, w)
	if len(in.Messages) != 2 || in.Messages[0].From != igsid || in.Messages[0].ExternalID != w.IDs[0] || in.Messages[0].Text != "Do you ship to Spain?" {
		t.Fatalf("messages: %+v", in.Messages)
	}
	f := in.Messages[1].Files
	if len(f) != 1 || f[0].ContentType != "video/mp4" || !strings.HasSuffix(f[0].Name, ".mp4") || !bytes.Equal(read(t, f[0]), video) {
		t.Fatalf("video: %+v", f)
	}

	// Seen: read, by the message's id (Instagram reports no delivery).
	in = h.post(t, fake, fake.InstagramSeen(igsid, "aWdfOURS"))
	if len(in.Statuses) != 1 || in.Statuses[0] != (channel.StatusReport{ExternalID: "aWdfOURS", From: igsid, Status: parley.StatusRead}) {
		t.Fatalf("seen: %+v", in.Statuses)
	}
}

func TestInstagramSend(t *testing.T) {
	fake := newFake(t)
	a := meta.Instagram(nil)
	ch := channelFor(fake, parley.ChannelInstagram)
	ctx := context.Background()
	check := a.(channel.ReplyChecker)

	id, err := a.Send(ctx, ch, reply(igsid, "Yes, we do!"))
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 1 || sent[0].ID != id || sent[0].Product != metafake.Instagram || sent[0].Text != "Yes, we do!" || sent[0].To != igsid {
		t.Fatalf("sent %+v", sent)
	}
	var body map[string]any
	json.Unmarshal(sent[0].Raw, &body)
	if _, ok := body["messaging_type"]; ok {
		t.Fatalf("Instagram's body: %s", sent[0].Raw)
	}

	// 1,000 bytes, not characters: 300 emoji are 1,200 bytes.
	emoji := strings.Repeat("😀", 300)
	err = check.CheckReply(ch, &parley.Message{Text: emoji})
	if err == nil || err.Error() != "Instagram takes at most 1,000 bytes of text; this one has 1,200" {
		t.Fatalf("CheckReply: %v", err)
	}
	if err := check.CheckReply(ch, &parley.Message{Text: strings.Repeat("a", 1000)}); err != nil {
		t.Fatalf("1,000 bytes: %v", err)
	}
	if _, err := a.Send(ctx, ch, reply(igsid, emoji)); err == nil || asError(t, err).Temporary {
		t.Fatalf("Send: %v", err)
	}

	// Files go by link only: without the server's public URL, refused
	// clearly; with it, Instagram fetches them.
	jpg := bytes.Repeat([]byte{0xff, 0xd8}, 100)
	_, err = a.Send(ctx, ch, reply(igsid, "", outFile("look.jpg", "image/jpeg", jpg, "")))
	if e := asError(t, err); e.Temporary || !strings.Contains(e.Message, "public URL") {
		t.Fatalf("no link: %+v", e)
	}
	links := fileServer(t, map[string][]byte{"look.jpg": jpg}, "image/jpeg")
	id, err = a.Send(ctx, ch, reply(igsid, "this one?", outFile("look.jpg", "image/jpeg", jpg, links.URL+"/look.jpg")))
	if err != nil {
		t.Fatal(err)
	}
	sent = fake.Sent()[1:]
	if len(sent) != 2 || sent[0].Text != "this one?" || sent[1].Type != "image" || !bytes.Equal(sent[1].File, jpg) || sent[1].ID != id {
		t.Fatalf("sent %+v", sent)
	}

	// A kind of file Instagram does not carry: refused before it is
	// stored.
	err = check.CheckReply(ch, &parley.Message{Files: []parley.File{{Name: "archive.zip", ContentType: "application/zip"}}})
	if err == nil || !strings.Contains(err.Error(), "PDF") {
		t.Fatalf("a zip: %v", err)
	}
	if err := check.CheckReply(ch, &parley.Message{Files: []parley.File{{Name: "menu.pdf", ContentType: "application/pdf"}}}); err != nil {
		t.Fatalf("a PDF: %v", err)
	}
}

// TestInstagramImageLimit: the fake enforces Instagram's 8 MB images on
// what it fetches.
func TestInstagramImageLimit(t *testing.T) {
	fake := newFake(t)
	big := make([]byte, 8<<20+1)
	links := fileServer(t, map[string][]byte{"big.png": big}, "image/png")
	_, err := meta.Instagram(nil).Send(context.Background(), channelFor(fake, parley.ChannelInstagram),
		reply(igsid, "", outFile("big.png", "image/png", big, links.URL+"/big.png")))
	if e := asError(t, err); e.Temporary || !strings.Contains(e.Message, "8 MB") {
		t.Fatalf("an oversized image: %+v", e)
	}
}
