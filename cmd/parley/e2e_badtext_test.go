package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel/sms/smsfake"
)

// TestChannelRepairsText: a customer's message with bytes that are not
// UTF-8, and a NUL, in its sender, name and text (found by
// channel/email's FuzzParse in raw 8-bit mail headers) is stored repaired
// on both databases, rather than failing the call on PostgreSQL (which the
// service would retry forever) or being refused and lost.
func TestChannelRepairsText(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		fake := smsfake.New("AC123", "twilio-token")
		t.Cleanup(fake.Close)
		s := newServer(t, append(opts, withPublicURL())...)
		lc := newLiveChat(t, s)
		ch := connectChannel(t, lc, "sms", map[string]string{"base_url": fake.URL(), "account_sid": "AC123", "from": fake.Number},
			map[string]string{"auth_token": "twilio-token"})
		_, ans := fake.Deliver(ch.WebhookURL, smsfake.Inbound{SID: "SM\xff1", From: "+1555777\xff0002", Body: "Gr\xfc\xdfe\x00 aus Berlin"})
		if ans.Status != http.StatusOK {
			t.Fatalf("inbound: %+v", ans)
		}
		d := channelDialog(t, lc.a, "sms", "+1555777\uFFFD0002")
		if got := texts(lc.a.history(d.Conversation.ID, "")); !slices.Equal(got, []string{"Gr\uFFFDe aus Berlin"}) {
			t.Fatalf("history: %q", got)
		}
	})
}

// TestMadeUpCursors: a cursor the client made up whose key is not UTF-8
// or has a NUL (found by sqlstore's FuzzCursor) is a 400 on both
// databases, not a failed PostgreSQL query.
func TestMadeUpCursors(t *testing.T) {
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		lc := newLiveChat(t, s)
		for _, path := range []string{"/api/v1/users", "/api/v1/conversations", "/api/v1/dialogs"} {
			for _, c := range []string{"MTr_", "MToA"} { // "1:\xff", "1:\x00"
				lc.admin.do("GET", path+"?cursor="+c, nil).wantErr(http.StatusBadRequest, parley.EINVALID)
			}
		}
	})
}

// TestUploadOverlongType: a media type longer than RFC 6838 allows (found
// by messaging's FuzzCleanType) is replaced by the one the name gives,
// rather than refused by file storage after the file's record was written.
func TestUploadOverlongType(t *testing.T) {
	s := newServer(t)
	c := s.newUser(t, parley.RoleMember, "")
	var f parley.File
	c.upload("report.pdf", "application/"+strings.Repeat("x", 300), []byte("%PDF-1.4")).want(http.StatusCreated).decode(&f)
	if f.ContentType != "application/pdf" || f.Name != "report.pdf" {
		t.Fatalf("stored %+v", f)
	}
}
