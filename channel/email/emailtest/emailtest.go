// Package emailtest runs mail servers on 127.0.0.1 for tests of the
// e-mail channel: an IMAP mailbox (go-imap's in-memory server, with IDLE)
// for the poller to read, an SMTP submission server that records what is
// sent and can be told to refuse, and builders of the mail customers and
// mail servers send (Message, Bounce). Nothing here reaches any other
// host.
package emailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// TLSMode is how a test server offers TLS.
type TLSMode int

const (
	// NoTLS: plain text only (imap://, smtp:// on 127.0.0.1).
	NoTLS TLSMode = iota
	// StartTLS: plain text upgraded with STARTTLS (imap://, smtp://).
	StartTLS
	// ImplicitTLS: TLS from the first byte (imaps://, smtps://).
	ImplicitTLS
)

var (
	certOnce sync.Once
	cert     tls.Certificate
	roots    *x509.CertPool
)

func makeCert() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "emailtest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	roots = x509.NewCertPool()
	roots.AddCert(leaf)
}

// ServerTLS is the test servers' TLS configuration: a self-signed
// certificate for 127.0.0.1 and localhost, made once per test binary.
func ServerTLS() *tls.Config {
	certOnce.Do(makeCert)
	return &tls.Config{Certificates: []tls.Certificate{cert}}
}

// ClientTLS trusts the test servers' certificate: give it to the adapter
// (email.Adapter.TLSConfig) to verify them as it would a real server.
func ClientTLS() *tls.Config {
	certOnce.Do(makeCert)
	return &tls.Config{RootCAs: roots}
}

// Deliver hands raw to the SMTP server at addr (host:port, no TLS, no
// login) as a mail server would: from is the envelope sender ("" for a
// bounce's MAIL FROM:<>), to the recipients. It returns the server's
// refusal as *smtp.SMTPError (a 451 means "try again later").
func Deliver(addr, from string, to []string, raw []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SendMail(from, to, bytes.NewReader(raw)); err != nil {
		return err
	}
	return c.Quit()
}
