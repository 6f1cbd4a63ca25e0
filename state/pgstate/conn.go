package pgstate

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Every connection herald opens, pooled or the lock's, is set up so that a
// holder that goes silent (its network cut, its host powered off, its
// process stopped) holds nothing for long:
//
//   - On the server's side, TCP keepalives and a user timeout make
//     PostgreSQL drop a connection whose client no longer answers within
//     about keepaliveIdle + keepaliveCount*keepaliveInterval seconds
//     (tcp_user_timeout bounds the same when data is waiting
//     unacknowledged). The operating system's defaults take about two hours.
//     With that connection go its session lock, its transaction and the
//     row locks that transaction held.
//   - idle_in_transaction_session_timeout ends a session left inside a
//     transaction without a word, as a writer stopped mid-write is, even
//     when its socket is still answered for (a stopped process's kernel
//     keeps answering keepalives). herald's own transactions never wait on
//     their client for more than a round trip.
//   - On herald's side, the same keepalives and user timeout on the socket
//     make a silent server fail the connection rather than hang it.
//
// The server settings need no privilege. A server or pooler that refuses
// them, or a Unix socket (where the TCP ones mean nothing), leaves the
// defaults, which is no reason not to connect. Settings the connection
// string gives, as parameters or in options, are left as given.
const (
	lockKeepaliveIdle     = 2
	lockKeepaliveInterval = 1
	lockKeepaliveCount    = 3
	lockUserTimeoutMillis = 5000

	// idleInTransactionTimeout is idle_in_transaction_session_timeout.
	idleInTransactionTimeout = 10 * time.Second
)

// LockReleaseBound is how long PostgreSQL keeps the lock of a holder whose
// network was cut, at most (see the keepalive settings above), when the
// server is reached over TCP.
const LockReleaseBound = (lockKeepaliveIdle + lockKeepaliveInterval*lockKeepaliveCount) * time.Second

// sessionSettings are the server settings above, in the order they are set.
var sessionSettings = [][2]string{
	{"tcp_keepalives_idle", strconv.Itoa(lockKeepaliveIdle)},
	{"tcp_keepalives_interval", strconv.Itoa(lockKeepaliveInterval)},
	{"tcp_keepalives_count", strconv.Itoa(lockKeepaliveCount)},
	{"tcp_user_timeout", strconv.Itoa(lockUserTimeoutMillis)},
	{"idle_in_transaction_session_timeout", strconv.Itoa(int(idleInTransactionTimeout / time.Millisecond))},
}

// configureConnections sets cc up as described above: a dialer with
// keepalives and a user timeout, and the server settings once connected.
func configureConnections(cc *pgconn.Config) {
	d := &net.Dialer{
		Timeout: cc.ConnectTimeout,
		KeepAliveConfig: net.KeepAliveConfig{
			Enable:   true,
			Idle:     lockKeepaliveIdle * time.Second,
			Interval: lockKeepaliveInterval * time.Second,
			Count:    lockKeepaliveCount,
		},
		Control: setUserTimeout,
	}
	cc.DialFunc = d.DialContext

	var set []string
	for _, s := range sessionSettings {
		_, given := cc.RuntimeParams[s[0]]
		if !given && !strings.Contains(cc.RuntimeParams["options"], s[0]) {
			set = append(set, "set_config('"+s[0]+"', '"+s[1]+"', false)")
		}
	}
	next := cc.AfterConnect
	cc.AfterConnect = func(ctx context.Context, pc *pgconn.PgConn) error {
		if next != nil {
			if err := next(ctx, pc); err != nil {
				return err
			}
		}
		if len(set) == 0 {
			return nil
		}
		// One round trip; when the server refuses one setting, each is
		// tried on its own so that the others still apply.
		if _, err := pc.Exec(ctx, "SELECT "+strings.Join(set, ", ")).ReadAll(); err == nil || ctx.Err() != nil {
			return nil
		}
		for _, s := range set {
			if _, err := pc.Exec(ctx, "SELECT "+s).ReadAll(); err != nil && ctx.Err() != nil {
				return nil
			}
		}
		return nil
	}
}
