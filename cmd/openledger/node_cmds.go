package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openledger/openledger/daemon"
)

func (a *app) initCmd() *cobra.Command {
	var apiAddr, profile string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a repo: config, libp2p identity, operator account (keystore v3)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := a.repoDir()
			if err != nil {
				return err
			}
			pass, err := a.password()
			if err != nil {
				return err
			}
			if pass == "" {
				fmt.Fprintln(a.stderr, "warning: empty keystore passphrase; the operator key is protected by file permissions only (set OPENLEDGER_PASSWORD or --password-file)")
			}
			cfg, err := daemon.ProfileConfig(profile)
			if err != nil {
				return err
			}
			if apiAddr != "" {
				cfg.API.Address = apiAddr
			}
			res, err := daemon.InitRepo(dir, daemon.InitOptions{Password: pass, Config: &cfg})
			if err != nil {
				return err
			}
			return a.emit(res, func(w io.Writer) {
				fmt.Fprintf(w, "initialized repo at %s\npeer id: %s\naccount: %s\n", res.Dir, res.PeerID, res.Account)
			})
		},
	}
	cmd.Flags().StringVar(&apiAddr, "api", "", "HOST:PORT of the HTTP API to write into the config (loopback; default 127.0.0.1:5180)")
	cmd.Flags().StringVar(&profile, "profile", "default", "starting configuration: default (public network), test (loopback, no mDNS), open-mainnet or open-testnet (the OPEN L2)")
	return cmd
}

func (a *app) daemonCmd() *cobra.Command {
	var apiAddr string
	var listen []string
	var chainRPC string
	var offline bool
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run the node until SIGINT or SIGTERM",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := a.repoDir()
			if err != nil {
				return err
			}
			repo, err := daemon.OpenRepo(dir)
			if err != nil {
				return err
			}
			defer repo.Close()
			if chainRPC != "" {
				// For this run; `chain deploy` would write it to the config
				// with the addresses.
				repo.Config.Chain.RPC = chainRPC
				if err := repo.Config.Validate(); err != nil {
					return fmt.Errorf("--chain-rpc: %w", err)
				}
			}
			log, err := a.logger(repo.Config.Log.Level)
			if err != nil {
				return err
			}
			limit, from, err := daemon.ApplyMemoryLimit(repo.Config)
			if err != nil {
				return err
			}
			if from != "none" {
				log.Info("go memory limit", "bytes", limit, "from", from)
			}
			pass, err := a.password()
			if err != nil {
				return err
			}
			node, err := daemon.NewNode(repo, daemon.Options{
				Password: pass, APIAddress: apiAddr, Logger: log, Version: version, Listen: listen, Offline: offline,
			})
			if err != nil {
				return err
			}
			if err := node.Start(); err != nil {
				node.Close()
				return err
			}
			log.Info("daemon ready", "repo", dir, "peer_id", repo.Config.Identity.PeerID,
				"account", repo.Config.Identity.Account, "api", "http://"+node.HTTPAddr())
			fmt.Fprintf(a.stderr, "console: http://%s/ (openledger console opens it logged in)\n", node.HTTPAddr())
			<-cmd.Context().Done()
			log.Info("shutting down")
			if err := node.Close(); err != nil {
				return err
			}
			log.Info("stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&apiAddr, "api", "", "HOST:PORT for the HTTP API, overriding config api.address (loopback only)")
	cmd.Flags().StringArrayVar(&listen, "listen", nil, "multiaddr to listen on, overriding config p2p.listen (repeatable)")
	cmd.Flags().BoolVar(&offline, "offline", false, "serve the API without joining the network")
	cmd.Flags().StringVar(&chainRPC, "chain-rpc", "", "EVM JSON-RPC endpoint to anchor on, overriding config chain.rpc (\"none\": no anchoring)")
	return cmd
}

func (a *app) idCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "id",
		Short: "Show the node's peer ID, addresses and operator account",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := call0(cmd.Context(), a, (*daemon.API).NodeID)
			if err != nil {
				return err
			}
			return a.emit(res, func(w io.Writer) {
				fmt.Fprintf(w, "peer id: %s\naccount: %s\n", res.PeerID, res.Account)
				if res.API != "" {
					fmt.Fprintf(w, "api:     %s\n", res.API)
				}
				for _, addr := range res.Addrs {
					fmt.Fprintf(w, "addr:    %s\n", addr)
				}
			})
		},
	}
}

func (a *app) authCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "auth", Short: "Manage API tokens"}
	var perm string
	create := &cobra.Command{
		Use:   "create-token",
		Short: "Create a bearer token for the HTTP API (read < write < sign < admin)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := daemon.ParsePerm(perm); err != nil {
				return err
			}
			token, err := call1(cmd.Context(), a, (*daemon.API).AuthCreateToken, perm)
			if err != nil {
				return err
			}
			return a.emit(map[string]string{"token": token, "perm": perm}, func(w io.Writer) { fmt.Fprintln(w, token) })
		},
	}
	create.Flags().StringVar(&perm, "perm", "read", "permission: read, write, sign or admin")
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Replace keystore/api.secret: every token issued before is refused at once",
		Long: "Replace keystore/api.secret with a new random secret. A running daemon refuses every token " +
			"issued before from its next request on, without a restart; without a daemon the repo's file is replaced. " +
			"The CLI and the unix socket need no token. Make new tokens with `openledger auth create-token`.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := run0(cmd.Context(), a, (*daemon.API).AuthRotate); err != nil {
				return err
			}
			return a.emit(map[string]bool{"rotated": true}, func(w io.Writer) {
				fmt.Fprintln(w, "api secret rotated: every token issued before is revoked (make new ones with `openledger auth create-token`)")
			})
		},
	}
	cmd.AddCommand(create, rotate)
	return cmd
}

func (a *app) configCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Show the node's configuration"}
	cmd.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := a.repoDir()
			if err != nil {
				return err
			}
			cfg, err := daemon.LoadConfig(dir + "/" + daemon.ConfigFile)
			if err != nil {
				return err
			}
			data, err := cfg.MarshalTOML()
			if err != nil {
				return err
			}
			return a.emit(cfg, func(w io.Writer) { io.WriteString(w, strings.TrimLeft(string(data), "\n")) })
		},
	})
	return cmd
}
