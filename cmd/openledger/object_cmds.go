package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/openledger/openledger/daemon"
)

func (a *app) objectCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "object", Short: "Stored objects by CID, as they are"}
	var raw, typed bool
	get := &cobra.Command{
		Use:   "get CID [--raw | --typed-data]",
		Short: "Print an object's every field (signature, license, metadata, chunk size...), its exact bytes, or its signed EIP-712 document",
		Long: "get prints the JSON of every field of a signed object (with --json, also its kind, signer, EIP-712\n" +
			"document and bytes). --raw writes the exact stored bytes (DAG-CBOR, or a shard's bytes), which hash\n" +
			"to the CID: `ipfs dag put --input-codec dag-cbor --store-codec dag-cbor` gives the same CID, and\n" +
			"`proofs verify --object` takes them. --typed-data prints the EIP-712 document the signer signed,\n" +
			"with \"signature\" and \"signer\": ethers' verifyTypedData(domain, types, message, signature) returns\n" +
			"signer once types.EIP712Domain is deleted. The object is fetched from the network if not held.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if raw && typed {
				return errors.New("--raw and --typed-data are exclusive")
			}
			ctx := cmd.Context()
			if c, err := cid.Decode(args[0]); raw && err == nil && c.Prefix().Codec == cid.Raw {
				return a.cat(ctx, args[0])
			}
			v, err := call1(ctx, a, (*daemon.API).ObjectGet, args[0])
			if err != nil {
				return err
			}
			switch {
			case raw:
				_, err := a.stdout.Write(v.Raw)
				return err
			case typed:
				if v.TypedData == nil {
					return fmt.Errorf("%s is not a signed object (kind %q): it has no EIP-712 document", v.CID, v.Kind)
				}
				return printJSON(a.stdout, v.TypedData)
			}
			return a.emit(v, func(w io.Writer) {
				if v.Object == nil {
					fmt.Fprintf(w, "%s: a %q block of %d bytes, not a signed object; see it with --raw\n", v.CID, v.Kind, len(v.Raw))
					return
				}
				printJSON(w, v.Object)
			})
		},
	}
	get.Flags().BoolVar(&raw, "raw", false, "write the exact stored bytes to stdout")
	get.Flags().BoolVar(&typed, "typed-data", false, "print the signed EIP-712 document (eth_signTypedData_v4 form, with signature and signer)")
	cmd.AddCommand(get)
	return cmd
}

// printJSON writes v as indented JSON; a raw message keeps its key order.
func printJSON(w io.Writer, v any) error {
	raw, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := buf.WriteTo(w)
	return err
}
