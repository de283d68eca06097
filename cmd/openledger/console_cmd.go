package main

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/openledger/openledger/daemon"
)

func (a *app) consoleCmd() *cobra.Command {
	var perm string
	var noOpen bool
	cmd := &cobra.Command{
		Use:   "console",
		Short: "Open the running daemon's web console in a browser, logged in",
		Long: `Open the web console (Datanets, review queue, votes, snapshots, attribution,
rewards, node status) of the daemon running on this repo in the default
browser. The link logs the browser in with --perm (default sign: it can vote
with the node's key); it works once, within two minutes. --perm read opens
the console read-only, without a login.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := daemon.ParsePerm(perm); err != nil {
				return err
			}
			id, err := call0(cmd.Context(), a, (*daemon.API).NodeID)
			if err != nil {
				return err
			}
			if id.API == "" {
				return errors.New("no daemon runs on this repo: start `openledger daemon`, then run `openledger console`")
			}
			url := id.API + "/"
			if perm != daemon.PermRead.String() {
				if url, err = call1(cmd.Context(), a, (*daemon.API).AuthConsoleLink, perm); err != nil {
					return err
				}
			}
			var openErr error
			if !noOpen {
				openErr = openBrowser(url)
			}
			return a.emit(map[string]string{"url": url}, func(w io.Writer) {
				fmt.Fprintln(w, url)
				if openErr != nil {
					fmt.Fprintf(a.stderr, "could not open a browser (%v): open the link above\n", openErr)
				}
			})
		},
	}
	cmd.Flags().StringVar(&perm, "perm", "sign", "permission of the browser's session: read, write, sign or admin")
	cmd.Flags().BoolVar(&noOpen, "no-open", false, "print the link without opening a browser")
	return cmd
}

// openBrowser opens url in the desktop's default browser.
func openBrowser(url string) error {
	var c *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		c = exec.Command("open", url)
	case "windows":
		c = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		c = exec.Command("xdg-open", url)
	}
	if err := c.Start(); err != nil {
		return err
	}
	go c.Wait() // reap it; the browser outlives us
	return nil
}
