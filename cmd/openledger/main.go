// Command openledger runs and drives one node of the openledger network.
//
// It is a thin shell: each command parses flags, calls the node's JSON-RPC
// API (through a running daemon, or through an in-process node on the repo
// when none runs) and prints the answer, for people by default and as JSON
// with --json.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ethereum/go-ethereum/rpc"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/openledger/openledger/daemon"
	"github.com/openledger/openledger/datanet"
)

var version = "0.1.0-dev"

// env is what main reads from the environment; nothing below main reads it.
type env struct {
	repoPath string // OPENLEDGER_PATH
	password string // OPENLEDGER_PASSWORD
	hasPass  bool
}

// app holds the global flags and the streams of one invocation.
type app struct {
	env          env
	repoFlag     string
	jsonOut      bool
	logLevel     string
	passwordFile string
	stdout       io.Writer
	stderr       io.Writer
	stderrTTY    bool
}

func main() {
	pass, hasPass := os.LookupEnv("OPENLEDGER_PASSWORD")
	a := &app{
		env:       env{repoPath: os.Getenv("OPENLEDGER_PATH"), password: pass, hasPass: hasPass},
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		stderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := a.root().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "openledger: "+oneLine(err))
		os.Exit(1)
	}
}

func oneLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:           "openledger",
		Short:         "Run and use a node of the openledger data network",
		Long:          "openledger runs one node of a decentralized AI data network: Datanets of signed, content-addressed contributions.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.repoFlag, "repo", "", "repo directory (default $OPENLEDGER_PATH, else ~/.openledger)")
	pf.BoolVar(&a.jsonOut, "json", false, "print JSON for scripts")
	pf.StringVar(&a.logLevel, "log-level", "", "log level: debug, info, warn, error (default: config log.level)")
	pf.StringVar(&a.passwordFile, "password-file", "", "file holding the keystore passphrase (default $OPENLEDGER_PASSWORD, else empty)")
	root.AddCommand(
		a.initCmd(), a.daemonCmd(), a.idCmd(), a.datanetCmd(), a.addCmd(), a.lsCmd(), a.catCmd(), a.getCmd(),
		a.pinCmd(), a.repoCmd(), a.authCmd(), a.configCmd(), a.devnetCmd(),
		a.connectCmd(), a.peersCmd(), a.providersCmd(), a.curateCmd(), a.snapshotCmd(), a.anchorCmd(), a.proofsCmd(), a.chainCmd(),
		a.modelCmd(), a.attributionCmd(), a.attributeCmd(), a.rewardsCmd(), a.objectCmd(), a.consoleCmd(),
	)
	return root
}

func (a *app) repoDir() (string, error) {
	return daemon.RepoPath(a.repoFlag, a.env.repoPath)
}

// password returns the keystore passphrase: --password-file, else
// $OPENLEDGER_PASSWORD, else empty.
func (a *app) password() (string, error) {
	if a.passwordFile != "" {
		data, err := os.ReadFile(a.passwordFile)
		if err != nil {
			return "", fmt.Errorf("read password file: %w", err)
		}
		return strings.TrimRight(string(data), "\r\n"), nil
	}
	return a.env.password, nil
}

func (a *app) logger(fallback string) (*slog.Logger, error) {
	lvl := a.logLevel
	if lvl == "" {
		lvl = fallback
	}
	if lvl == "" {
		lvl = "info"
	}
	l, err := daemon.ParseLogLevel(lvl)
	if err != nil {
		return nil, err
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: l})), nil
}

// client connects to the repo's node: the daemon if one runs, else the repo.
func (a *app) client(ctx context.Context) (*daemon.Client, error) {
	dir, err := a.repoDir()
	if err != nil {
		return nil, err
	}
	pass, err := a.password()
	if err != nil {
		return nil, err
	}
	log, err := a.logger("warn")
	if err != nil {
		return nil, err
	}
	return daemon.Connect(ctx, dir, daemon.Options{Password: pass, Logger: log, Version: version})
}

// withAPI connects to the repo's node, runs f with its API and closes the
// connection.
func withAPI[R any](ctx context.Context, a *app, f func(*daemon.API) (R, error)) (R, error) {
	c, err := a.client(ctx)
	if err != nil {
		var zero R
		return zero, err
	}
	defer c.Close()
	r, err := f(c.API)
	return r, rpcErr(err)
}

// call0, call1 and call2 call one method of the repo's node's API, given
// as a method expression ((*daemon.API).NodeID), with its arguments.
func call0[R any](ctx context.Context, a *app, m func(*daemon.API, context.Context) (R, error)) (R, error) {
	return withAPI(ctx, a, func(api *daemon.API) (R, error) { return m(api, ctx) })
}

func call1[A, R any](ctx context.Context, a *app, m func(*daemon.API, context.Context, A) (R, error), arg A) (R, error) {
	return withAPI(ctx, a, func(api *daemon.API) (R, error) { return m(api, ctx, arg) })
}

func call2[A, B, R any](ctx context.Context, a *app, m func(*daemon.API, context.Context, A, B) (R, error), arg A, arg2 B) (R, error) {
	return withAPI(ctx, a, func(api *daemon.API) (R, error) { return m(api, ctx, arg, arg2) })
}

// run0 is call0 for a method without a result.
func run0(ctx context.Context, a *app, m func(*daemon.API, context.Context) error) error {
	_, err := withAPI(ctx, a, func(api *daemon.API) (struct{}, error) { return struct{}{}, m(api, ctx) })
	return err
}

// run1 is call1 for a method without a result.
func run1[A any](ctx context.Context, a *app, m func(*daemon.API, context.Context, A) error, arg A) error {
	_, err := withAPI(ctx, a, func(api *daemon.API) (struct{}, error) { return struct{}{}, m(api, ctx, arg) })
	return err
}

// rpcErr strips the transport wrapping of API errors so the CLI prints the
// message alone.
func rpcErr(err error) error {
	if err == nil {
		return nil
	}
	if re, ok := errors.AsType[rpc.Error](err); ok {
		return errors.New(re.Error())
	}
	return err
}

// emit prints v as JSON with --json, else calls human.
// pageFlags adds --after and --limit to cmd and returns the page they
// select.
func pageFlags(cmd *cobra.Command) *daemon.PageArgs {
	p := &daemon.PageArgs{}
	cmd.Flags().StringVar(&p.After, "after", "", "start after this item: the last one of the previous page")
	cmd.Flags().IntVar(&p.Limit, "limit", 0, fmt.Sprintf("items per page (default %d, at most %d)", datanet.DefaultPage, datanet.MaxPage))
	return p
}

// nextPage says, after human output, how to get the next page when this
// one came back full: n items, the last being last.
func (a *app) nextPage(w io.Writer, n int, p *daemon.PageArgs, last string) {
	if a.jsonOut || n == 0 || n < datanet.PageLimit(p.Limit) {
		return
	}
	fmt.Fprintf(w, "(more: --after %s)\n", last)
}

// pageList sets cmd to print a page of a list: --after and --limit
// choose it, get fetches it (with the command's arguments), line prints an
// item for people and key names it as the next page's --after.
func pageList[T any](a *app, cmd *cobra.Command, get func(ctx context.Context, args []string, page *daemon.PageArgs) ([]T, error),
	line func(io.Writer, T), key func(T) string) *cobra.Command {
	page := pageFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		items, err := get(cmd.Context(), args, page)
		if err != nil {
			return rpcErr(err)
		}
		return a.emit(items, func(w io.Writer) {
			for _, it := range items {
				line(w, it)
			}
			if len(items) > 0 {
				a.nextPage(w, len(items), page, key(items[len(items)-1]))
			}
		})
	}
	return cmd
}

func (a *app) emit(v any, human func(w io.Writer)) error {
	if a.jsonOut {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	human(a.stdout)
	return nil
}
