package meta_test

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
	"github.com/parley-chat/parley/channel/meta"
	"github.com/parley-chat/parley/channel/meta/metafake"
)

const customer = "15551230001"

func TestWhatsAppInbound(t *testing.T) {
	fake := newFake(t)
	a := meta.WhatsApp(nil)
	ch := channelFor(fake, parley.ChannelWhatsApp)
	h := newHook(t, a, ch)

	// A text, answering one of Parley's messages.
	w := fake.WhatsAppMessages(metafake.WAMessage{From: customer, Name: "Ann Lee", Text: "Where is my order?", ReplyTo: "wamid.OURS"})
	in := h.post(t, fake, w)
	if len(in.Messages) != 1 || len(in.Statuses) != 0 {
		t.Fatalf("inbound: %+v", in)
	}
	m := in.Messages[0]
	if m.ExternalID != w.IDs[0] || m.From != customer || m.Name != "Ann Lee" || m.Phone != "+"+customer ||
		m.Text != "Where is my order?" || m.ReplyTo != "wamid.OURS" || len(m.Files) != 0 {
		t.Fatalf("message: %+v", m)
	}
	// Delivered again (Meta retries until it gets a 200): the same id.
	if again := h.post(t, fake, w); again.Messages[0].ExternalID != m.ExternalID {
		t.Fatalf("redelivered as %q, first %q", again.Messages[0].ExternalID, m.ExternalID)
	}

	// Files: fetched from Meta by media id, then from the link it gives.
	photo := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0}, 500)
	pdf := []byte("%PDF-1.4 invoice")
	voice := []byte("OggS voice")
	w = fake.WhatsAppMessages(
		metafake.WAMessage{From: customer, Name: "Ann Lee", Type: "image", File: photo, Text: "the receipt"},
		metafake.WAMessage{From: customer, Name: "Ann Lee", Type: "document", File: pdf, FileName: "invoice.pdf", MimeType: "application/pdf"},
		metafake.WAMessage{From: customer, Name: "Ann Lee", Type: "voice", File: voice},
	)
	in = h.post(t, fake, w)
	if len(in.Messages) != 3 {
		t.Fatalf("messages: %+v", in.Messages)
	}
	for i, want := range []struct {
		text, name, contentType string
		data                    []byte
	}{
		{"the receipt", "image.jpg", "image/jpeg", photo},
		{"", "invoice.pdf", "application/pdf", pdf},
		{"", "voice.ogg", "audio/ogg", voice},
	} {
		m := in.Messages[i]
		if m.ExternalID != w.IDs[i] || m.Text != want.text || len(m.Files) != 1 {
			t.Fatalf("message %d: %+v", i, m)
		}
		f := m.Files[0]
		if f.Name != want.name || f.ContentType != want.contentType {
			t.Fatalf("file %d: %q %q", i, f.Name, f.ContentType)
		}
		if got := read(t, f); !bytes.Equal(got, want.data) {
			t.Fatalf("file %d has %d bytes, want %d", i, len(got), len(want.data))
		}
	}

	// What Parley cannot show arrives as a line saying what it was; a
	// reaction taken back is nothing.
	in = h.post(t, fake, fake.WhatsAppMessages(
		metafake.WAMessage{From: customer, Type: "sticker", File: []byte("RIFF")},
		metafake.WAMessage{From: customer, Type: "location", Text: "Office", Latitude: 52.52, Longitude: 13.405},
		metafake.WAMessage{From: customer, Type: "unsupported"},
		metafake.WAMessage{From: customer, Type: "reaction", Text: "👍", ReplyTo: "wamid.OURS"},
		metafake.WAMessage{From: customer, Type: "reaction", Text: "", ReplyTo: "wamid.OURS"},
	))
	var texts []string
	for _, m := range in.Messages {
		texts = append(texts, m.Text)
	}
	want := []string{"(a sticker)", "(a location: Office, 52.520000,13.405000)", "(a kind of WhatsApp message Parley cannot show)", "(reacted 👍)"}
	if strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Fatalf("texts %q, want %q", texts, want)
	}

	// A media id Meta no longer has: a permanent refusal, which Parley
	// notes in the message instead of the file.
	w = fake.WhatsAppMessages(metafake.WAMessage{From: customer, Type: "image", File: photo})
	in = h.post(t, fake, w)
	var id string
	if m := regexp.MustCompile(`"image":\{"id":"([0-9]+)"`).FindSubmatch(w.Body); m != nil {
		id = string(m[1])
	}
	if id == "" {
		t.Fatal("no media id in the webhook")
	}
	if _, ok := fake.Media(id); !ok {
		t.Fatal("the fake does not have the media")
	}
	fake.Fail(metafake.Failure{Product: metafake.WhatsApp, Code: 100, Subcode: 33, AllCalls: true})
	if _, err := in.Messages[0].Files[0].Open(context.Background()); err == nil || asError(t, err).Temporary {
		t.Fatalf("an unknown media id: %v", err)
	}
}

func TestWhatsAppOtherNumber(t *testing.T) {
	fake := newFake(t)
	a := meta.WhatsApp(nil)
	ch := channelFor(fake, parley.ChannelWhatsApp)
	ch.Settings[meta.SettingPhoneNumberID] = "999" // another number of the same business
	h := newHook(t, a, ch)
	in := h.post(t, fake, fake.WhatsAppMessages(metafake.WAMessage{From: customer, Text: "not yours"}))
	if len(in.Messages) != 0 {
		t.Fatalf("another number's message was taken: %+v", in.Messages)
	}
}

func TestWhatsAppStatuses(t *testing.T) {
	fake := newFake(t)
	a := meta.WhatsApp(nil)
	h := newHook(t, a, channelFor(fake, parley.ChannelWhatsApp))
	in := h.post(t, fake, fake.WhatsAppStatuses(
		metafake.WAStatus{ID: "wamid.A", To: customer, Status: "sent"},
		metafake.WAStatus{ID: "wamid.A", To: customer, Status: "delivered"},
		metafake.WAStatus{ID: "wamid.A", To: customer, Status: "read"},
		metafake.WAStatus{ID: "wamid.B", To: customer, Status: "failed", ErrorCode: 131047, ErrorTitle: "Re-engagement message",
			ErrorDetails: "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
		metafake.WAStatus{ID: "wamid.C", To: customer, Status: "failed", ErrorCode: 131999, ErrorTitle: "Something new"},
	))
	want := []parley.MsgStatus{parley.StatusSent, parley.StatusDelivered, parley.StatusRead, parley.StatusFailed, parley.StatusFailed}
	if len(in.Statuses) != len(want) || len(in.Messages) != 0 {
		t.Fatalf("inbound: %+v", in)
	}
	for i, st := range in.Statuses {
		if st.Status != want[i] || st.From != customer || st.ExternalID == "" {
			t.Fatalf("status %d: %+v", i, st)
		}
	}
	if e := in.Statuses[3].Error; !strings.Contains(e, "24 hours") || !strings.Contains(e, "131047") {
		t.Fatalf("failure: %q", e)
	}
	if e := in.Statuses[4].Error; !strings.Contains(e, "Something new") || !strings.Contains(e, "131999") {
		t.Fatalf("failure: %q", e)
	}
}

func TestWhatsAppSend(t *testing.T) {
	fake := newFake(t)
	a := meta.WhatsApp(nil)
	ch := channelFor(fake, parley.ChannelWhatsApp)
	ctx := context.Background()

	// A text, quoting the customer's message.
	out := reply(customer, "Your order ships today: https://example.com/track")
	out.ReplyTo = "wamid.THEIRS"
	id, err := a.Send(ctx, ch, out)
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 1 || sent[0].ID != id || sent[0].To != customer || sent[0].Type != "text" ||
		sent[0].Text != out.Text || sent[0].ReplyTo != "wamid.THEIRS" {
		t.Fatalf("sent %+v, id %q", sent, id)
	}
	var body map[string]any
	json.Unmarshal(sent[0].Raw, &body)
	if body["messaging_product"] != "whatsapp" || body["recipient_type"] != "individual" {
		t.Fatalf("body: %s", sent[0].Raw)
	}

	// A photo with a short text: uploaded, then sent by id with the text
	// as its caption.
	photo := bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 100)
	id, err = a.Send(ctx, ch, reply(customer, "here it is", outFile("label.png", "image/png", photo, "")))
	if err != nil {
		t.Fatal(err)
	}
	sent = fake.Sent()[1:]
	up := fake.Uploads()
	if len(up) != 1 || up[0].Type != "image/png" || up[0].FileName != "label.png" || !bytes.Equal(up[0].Data, photo) {
		t.Fatalf("uploads: %+v", up)
	}
	if len(sent) != 1 || sent[0].ID != id || sent[0].Type != "image" || sent[0].MediaID != up[0].ID || sent[0].Text != "here it is" ||
		!bytes.Equal(sent[0].File, photo) {
		t.Fatalf("sent %+v", sent)
	}

	// Audio takes no caption, and a long text does not fit one: the text
	// goes first, quoting, then the files, the document with its name.
	long := strings.Repeat("x", 1100)
	out = reply(customer, long, outFile("note.ogg", "audio/ogg; codecs=opus", []byte("OggS"), ""),
		outFile("terms.pdf", "application/pdf", []byte("%PDF"), ""))
	out.ReplyTo = "wamid.THEIRS"
	id, err = a.Send(ctx, ch, out)
	if err != nil {
		t.Fatal(err)
	}
	sent = fake.Sent()[2:]
	if len(sent) != 3 || sent[0].Type != "text" || sent[0].Text != long || sent[0].ReplyTo != "wamid.THEIRS" ||
		sent[1].Type != "audio" || sent[1].Text != "" || sent[1].ReplyTo != "" ||
		sent[2].Type != "document" || sent[2].FileName != "terms.pdf" || sent[2].ID != id {
		t.Fatalf("sent %+v", sent)
	}
	if up := fake.Uploads(); up[1].Type != "audio/ogg" {
		t.Fatalf("the upload's type: %q", up[1].Type)
	}
}

// TestWhatsAppLimits: WhatsApp's own limits, refused with words a manager
// understands.
func TestWhatsAppLimits(t *testing.T) {
	fake := newFake(t)
	a := meta.WhatsApp(nil)
	ch := channelFor(fake, parley.ChannelWhatsApp)
	ctx := context.Background()

	// A text over 4,096 characters: refused before it is stored, and by
	// Send.
	long := strings.Repeat("ж", 4097)
	err := a.(channel.ReplyChecker).CheckReply(ch, &parley.Message{Text: long})
	if err == nil || !strings.Contains(err.Error(), "4,096 characters") || !strings.Contains(err.Error(), "4,097") {
		t.Fatalf("CheckReply: %v", err)
	}
	if err := a.(channel.ReplyChecker).CheckReply(ch, &parley.Message{Text: strings.Repeat("ж", 4096)}); err != nil {
		t.Fatalf("4,096 characters: %v", err)
	}
	if _, err := a.Send(ctx, ch, reply(customer, long)); err == nil || asError(t, err).Temporary {
		t.Fatalf("Send: %v", err)
	}

	// An image over WhatsApp's 5 MB (a project may raise Parley's limit):
	// the upload is refused for good, saying why, and the text that would
	// have gone first is not sent.
	big := make([]byte, 5<<20+1)
	_, err = a.Send(ctx, ch, reply(customer, strings.Repeat("a", 1100), outFile("big.jpg", "image/jpeg", big, "")))
	if e := asError(t, err); e.Temporary || e.Code != "131053" || !strings.Contains(e.Message, "5MB") {
		t.Fatalf("an oversized image: %+v", e)
	}
	// The same bytes as a document are within its 100 MB.
	if _, err := a.Send(ctx, ch, reply(customer, "", outFile("big.bin", "application/octet-stream", big, ""))); err != nil {
		t.Fatalf("a 5 MB document: %v", err)
	}
	if len(fake.Sent()) != 1 {
		t.Fatalf("sent %d messages", len(fake.Sent()))
	}
}
