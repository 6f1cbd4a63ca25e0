package command

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	a1sandbox "github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/accounts"
	"github.com/heraldhq/herald/command/views"
)

func init() {
	register(&Command{
		Name:     "sandbox",
		Synopsis: "Run a local A1Base-compatible server for trying configurations",
		Run: func(ctx context.Context, env *Env, args []string) error {
			opts, err := parseSandboxFlags(env, args)
			if err != nil {
				return err
			}
			return runSandbox(ctx, env, opts)
		},
	})
}

type sandboxOptions struct {
	Listen    string
	APIKey    string
	APISecret string
	AccountID string
	Faults    a1sandbox.Faults
	LoseMode  string
	Seed      uint64
	Wrapped   bool
	NoColor   bool
	Webhook   string
	// NotifySecret verifies the signatures of notifications received on
	// /notify/NAME; NotifyFile keeps them.
	NotifySecret string
	NotifyFile   string
}

func parseSandboxFlags(env *Env, args []string) (sandboxOptions, error) {
	var opts sandboxOptions
	fs := newFlagSet("sandbox", env)
	setUsage(fs, "[options]", `
Serve a fake A1Base API on a real listener, for trying a configuration (or
any program that speaks the A1Base API) without sending anything. It checks
requests the way A1Base does, prints every message it receives, and answers
thread look-ups from what it received. Point herald at it with the exports
it prints. It keeps everything in memory and stops on Ctrl-C (exit 0).

It also receives notifications: a notify block whose webhook or slack url
is the sandbox's /notify/NAME has them printed here (and kept in
-notifications, verified with -notify-secret), so they can be tried
without a real endpoint.

The fault flags make it misbehave on purpose, each on that share of sends
(0 to 1), drawn from a seeded random source so that a run can be repeated.`)
	fs.StringVar(&opts.Listen, "listen", "127.0.0.1:8080", "Listen on `ADDR` (host:port; port 0 picks a free one).")
	fs.StringVar(&opts.APIKey, "api-key", "", "Accept only this `KEY` in X-API-Key. Default: any non-empty key.")
	fs.StringVar(&opts.APISecret, "api-secret", "", "Accept only this `SECRET` in X-API-Secret. Default: any non-empty secret.")
	fs.StringVar(&opts.AccountID, "account-id", "", "Accept only this account `ID` in paths. Default: any.")
	fs.Float64Var(&opts.Faults.ErrorRate, "fail-rate", 0, "Answer this share of sends with an error, as a `FRACTION`, without delivering them.")
	fs.IntVar(&opts.Faults.ErrorStatus, "fail-status", 500, "The HTTP `STATUS` of -fail-rate's errors.")
	fs.Float64Var(&opts.Faults.RateLimitRate, "rate-429", 0, "Answer this share of sends with 429 Too Many Requests, as a `FRACTION`.")
	fs.StringVar(&opts.Faults.RetryAfter, "retry-after", "1", "The Retry-After `VALUE` of -rate-429's answers (seconds or an HTTP date; empty for none).")
	fs.DurationVar(&opts.Faults.Latency, "latency", 0, "Delay every answer by `DURATION` (e.g. 200ms).")
	fs.Float64Var(&opts.Faults.LoseRate, "lose-rate", 0, "Deliver this share of sends and lose the answer, as a `FRACTION`.")
	fs.StringVar(&opts.LoseMode, "lose", "drop", "How -lose-rate loses answers: `drop` closes the connection, hang never answers.")
	fs.Uint64Var(&opts.Seed, "seed", 1, "Seed the faults' random source with `N`.")
	fs.BoolVar(&opts.Wrapped, "wrapped", false, "Wrap send answers in {\"data\": ...}, as some A1Base deployments do.")
	fs.BoolVar(&opts.NoColor, "no-color", false, "Print no colour codes.")
	fs.StringVar(&opts.Webhook, "webhook", "", "Post a signed webhook event for every message to `URL` (e.g. herald run -listen's http://127.0.0.1:9090/webhook), as A1Base does: signed with the API secret of the send.")
	fs.StringVar(&opts.NotifySecret, "notify-secret", "", "Verify the signature of notifications received on /notify/NAME with this `SECRET`, the notify block's, and refuse (401) those that do not match. Default: print them unverified.")
	fs.StringVar(&opts.NotifyFile, "notifications", "", "Keep the notifications received on /notify/NAME in `FILE`, one JSON object a line.")
	if err := parseFlags(fs, env, args); err != nil {
		return opts, err
	}
	if fs.NArg() > 0 {
		return opts, usageError(fs, env, "sandbox takes no arguments, got %q", fs.Arg(0))
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"fail-rate", opts.Faults.ErrorRate}, {"rate-429", opts.Faults.RateLimitRate}, {"lose-rate", opts.Faults.LoseRate}} {
		if r.v < 0 || r.v > 1 {
			return opts, usageError(fs, env, "-%s must be a fraction between 0 and 1, got %g", r.name, r.v)
		}
	}
	if opts.Faults.ErrorStatus < 400 || opts.Faults.ErrorStatus > 599 {
		return opts, usageError(fs, env, "-fail-status must be an HTTP error status (400 to 599), got %d", opts.Faults.ErrorStatus)
	}
	if opts.Faults.Latency < 0 {
		return opts, usageError(fs, env, "-latency must not be negative")
	}
	switch opts.LoseMode {
	case "drop":
		opts.Faults.Lose = a1sandbox.Drop
	case "hang":
		opts.Faults.Lose = a1sandbox.Hang
	default:
		return opts, usageError(fs, env, "-lose must be drop or hang, got %q", opts.LoseMode)
	}
	if (opts.APIKey == "") != (opts.APISecret == "") {
		return opts, usageError(fs, env, "-api-key and -api-secret go together")
	}
	return opts, nil
}

func runSandbox(ctx context.Context, env *Env, opts sandboxOptions) error {
	view := views.NewSandbox(newView(env, opts.NoColor))
	options := []a1sandbox.Option{
		a1sandbox.WithFaults(opts.Faults),
		a1sandbox.WithSeed(opts.Seed),
		a1sandbox.WithOnReceive(func(r a1sandbox.Received) { view.Received(r.Request, r.AnswerLost) }),
	}
	if opts.APIKey != "" {
		options = append(options, a1sandbox.WithCredentials(opts.APIKey, opts.APISecret))
	}
	if opts.AccountID != "" {
		options = append(options, a1sandbox.WithAccountID(opts.AccountID))
	}
	if opts.Wrapped {
		options = append(options, a1sandbox.WithWrappedAnswers())
	}
	if opts.Webhook != "" {
		options = append(options, a1sandbox.WithWebhook(opts.Webhook))
	}
	api := a1sandbox.NewHandler(options...)
	defer api.Close()

	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/notify/", &notifyReceiver{view: view, secret: opts.NotifySecret, file: opts.NotifyFile})
	mux.Handle("/", api)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	info := views.SandboxInfo{
		URL:    "http://" + hostPort(ln.Addr()),
		APIKey: opts.APIKey, APISecret: opts.APISecret, Account: opts.AccountID,
		ErrorRate: opts.Faults.ErrorRate, ErrorStatus: opts.Faults.ErrorStatus,
		RateLimitRate: opts.Faults.RateLimitRate, RetryAfter: opts.Faults.RetryAfter,
		LoseRate: opts.Faults.LoseRate, LoseMode: opts.LoseMode,
		Latency: opts.Faults.Latency, Seed: opts.Seed,
	}
	if info.APIKey == "" {
		info.APIKey, info.APISecret = "sandbox", "sandbox"
	}
	if info.Account == "" {
		info.Account = accounts.SandboxAccount
	}
	view.Listening(info)

	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("sandbox: %w", err)
	}
	// Requests held by latency or a hanging answer are released first, so
	// that shutting down does not wait for them.
	api.Close()
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("sandbox: stopping: %w", err)
	}
	view.Stopped(len(api.Sends()))
	return nil
}

// hostPort names a listening address the way a client dials it: an
// unspecified host (":8080", "0.0.0.0") is reached through loopback.
func hostPort(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}
