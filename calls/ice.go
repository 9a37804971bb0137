package calls

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v4"

	"github.com/parley-chat/parley"
)

// ICEServer is one STUN or TURN server for a client's RTCPeerConnection.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// ICEConfig is what a client configures its RTCPeerConnection with.
type ICEConfig struct {
	ICEServers []ICEServer `json:"ice_servers"`
	// TTL is how long the TURN credentials stay valid, in seconds.
	TTL int64 `json:"ttl"`
}

// ICEServers returns the STUN and TURN servers for the actor, with TURN
// credentials valid for Config.TURNTTL.
func (s *Service) ICEServers(ctx context.Context, actor *parley.User) (*ICEConfig, error) {
	if actor.Bot || !actor.Active {
		return nil, parley.Errorf(parley.EFORBIDDEN, "this account cannot make calls")
	}
	out := &ICEConfig{ICEServers: []ICEServer{}, TTL: int64(s.cfg.TURNTTL / time.Second)}
	if len(s.cfg.STUNURLs) > 0 {
		out.ICEServers = append(out.ICEServers, ICEServer{URLs: s.cfg.STUNURLs})
	}
	if len(s.cfg.TURNURLs) > 0 {
		user, pass := TURNCredentials(s.cfg.TURNSecret, strconv.FormatInt(actor.ID, 10), s.cfg.Now().Add(s.cfg.TURNTTL))
		out.ICEServers = append(out.ICEServers, ICEServer{URLs: s.cfg.TURNURLs, Username: user, Credential: pass})
	}
	return out, nil
}

// TURNCredentials are time-limited TURN credentials as the TURN REST API
// defines them and coturn's use-auth-secret checks them: the username is
// "<expiry, unix seconds>:<user>", the password base64(HMAC-SHA1(secret,
// username)).
func TURNCredentials(secret, user string, expires time.Time) (username, password string) {
	username = strconv.FormatInt(expires.Unix(), 10) + ":" + user
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return username, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// TURNConfig configures the built-in TURN server.
type TURNConfig struct {
	// Addr is the UDP address it listens on, e.g. ":3478".
	Addr string
	// PublicIP is the address it relays on, as clients reach it.
	PublicIP string
	// RelayAddr is the local address relay sockets bind to (default
	// 0.0.0.0).
	RelayAddr string
	// Secret checks the clients' time-limited credentials (TURNCredentials).
	Secret string
	Realm  string
	Logger *slog.Logger
}

// TURNServer is the built-in TURN server (pion/turn).
type TURNServer struct {
	srv  *turn.Server
	conn net.PacketConn
}

// StartTURN starts the built-in TURN server.
func StartTURN(cfg TURNConfig) (*TURNServer, error) {
	ip := net.ParseIP(cfg.PublicIP)
	if ip == nil {
		return nil, fmt.Errorf("turn-public-ip: %q is not an IP address (the built-in TURN server relays on it)", cfg.PublicIP)
	}
	if cfg.Secret == "" {
		return nil, fmt.Errorf("turn-secret: the built-in TURN server needs a secret to check credentials")
	}
	if cfg.Realm == "" {
		cfg.Realm = "parley"
	}
	if cfg.RelayAddr == "" {
		cfg.RelayAddr = "0.0.0.0"
	}
	conn, err := net.ListenPacket("udp4", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("turn-addr: %w", err)
	}
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelWarn
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:         cfg.Realm,
		AuthHandler:   turn.LongTermTURNRESTAuthHandler(cfg.Secret, lf.NewLogger("turn")),
		LoggerFactory: lf,
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: conn,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: ip, Address: cfg.RelayAddr}}},
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &TURNServer{srv: srv, conn: conn}, nil
}

// Addr is the UDP address the TURN server listens on.
func (t *TURNServer) Addr() net.Addr { return t.conn.LocalAddr() }

// Close stops the TURN server and its relays.
func (t *TURNServer) Close() error { return t.srv.Close() }
