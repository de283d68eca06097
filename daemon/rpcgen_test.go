package daemon

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/ethereum/go-ethereum/rpc"
)

var updateGenerated = flag.Bool("update", false, "rewrite service_gen.go and client_gen.go")

// subscriptionEvents are the events each subscription sends, for the typed
// client's channel.
var subscriptionEvents = map[string]any{
	"content_addProgress":       AddEvent{},
	"content_fetchProgress":     FetchEvent{},
	"attribution_indexProgress": IndexEvent{},
	"datanet_objects":           ObjectEvent{},
}

// rpcMethod is a method the JSON-RPC server exposes.
type rpcMethod struct {
	ns      string       // namespace
	goName  string       // the Go method's name
	rpcName string       // namespace_method, as clients call it
	recv    reflect.Type // the receiver
	fn      reflect.Type // the method's type without its receiver
	sub     bool         // a subscription: namespace_subscribe("method", ...)
}

var (
	contextType      = reflect.TypeFor[context.Context]()
	errorType        = reflect.TypeFor[error]()
	subscriptionType = reflect.TypeFor[*rpc.Subscription]()
)

// exposedMethods lists the methods of receiver that go-ethereum's rpc
// package exposes under ns: the exported methods of its method set that
// return at most a value and an error (rpc/service.go, suitableCallbacks),
// each named with its first letter lower-cased. It fails t for one without
// a context or an error, which the API never has.
func exposedMethods(t *testing.T, ns string, receiver any) []rpcMethod {
	t.Helper()
	typ := reflect.TypeOf(receiver)
	var out []rpcMethod
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		if !m.IsExported() {
			continue
		}
		fn := m.Func.Type()
		nout := fn.NumOut()
		if nout > 2 || (nout == 2 && (fn.Out(0).Implements(errorType) || !fn.Out(1).Implements(errorType))) {
			continue // not an RPC method for the rpc package
		}
		if fn.NumIn() < 2 || fn.In(1) != contextType || nout == 0 || fn.Out(nout-1) != errorType {
			t.Errorf("%s.%s: an API method takes a context first and returns an error last", typ, m.Name)
			continue
		}
		ins := make([]reflect.Type, 0, fn.NumIn()-1)
		for i := 1; i < fn.NumIn(); i++ {
			ins = append(ins, fn.In(i))
		}
		outs := make([]reflect.Type, 0, nout)
		for i := range nout {
			outs = append(outs, fn.Out(i))
		}
		name := []rune(m.Name)
		name[0] = unicode.ToLower(name[0])
		out = append(out, rpcMethod{
			ns: ns, goName: m.Name, rpcName: ns + "_" + string(name), recv: typ,
			fn:  reflect.FuncOf(ins, outs, false),
			sub: nout == 2 && fn.Out(0) == subscriptionType,
		})
	}
	return out
}

// TestRPCGenerated checks that service_gen.go and client_gen.go are what
// the namespaces' methods generate; -update (go generate) rewrites them.
func TestRPCGenerated(t *testing.T) {
	decls := methodDecls(t)
	var services, clients []rpcMethod
	for _, a := range (&Node{}).apis() {
		ms := exposedMethods(t, a.ns, a.impl)
		services = append(services, ms...)
		clients = append(clients, ms...)
	}
	for name, src := range map[string][]byte{
		"service_gen.go": genServices(t, services, decls),
		"client_gen.go":  genClient(t, clients, decls),
	} {
		if *updateGenerated {
			if err := os.WriteFile(name, src, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		have, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(have, src) {
			t.Errorf("%s is stale: run go generate ./daemon", name)
		}
	}
}

// methodDecls maps "type.Method" to the declarations of the package's
// methods, for their parameter names and doc comments.
func methodDecls(t *testing.T) map[string]*ast.FuncDecl {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	decls := map[string]*ast.FuncDecl{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, "_gen.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || len(fd.Recv.List) != 1 {
				continue
			}
			recv := fd.Recv.List[0].Type
			if star, ok := recv.(*ast.StarExpr); ok {
				recv = star.X
			}
			if id, ok := recv.(*ast.Ident); ok {
				decls[id.Name+"."+fd.Name.Name] = fd
			}
		}
	}
	return decls
}

// typeNames writes Go types as code of package daemon and collects the
// imports they need.
type typeNames struct {
	imports map[string]bool
}

func (tn *typeNames) name(t reflect.Type) string {
	if t.Name() == "" {
		switch t.Kind() {
		case reflect.Pointer:
			return "*" + tn.name(t.Elem())
		case reflect.Slice:
			return "[]" + tn.name(t.Elem())
		case reflect.Map:
			return "map[" + tn.name(t.Key()) + "]" + tn.name(t.Elem())
		case reflect.Chan:
			return "chan<- " + tn.name(t.Elem())
		}
	}
	switch t.PkgPath() {
	case "":
		return t.String()
	case reflect.TypeFor[Node]().PkgPath():
		return t.Name()
	}
	tn.imports[t.PkgPath()] = true
	return t.String()
}

func (tn *typeNames) file(body *bytes.Buffer) []byte {
	var src bytes.Buffer
	src.WriteString("// Code generated by TestRPCGenerated (go generate ./daemon); DO NOT EDIT.\n\npackage daemon\n\nimport (\n")
	paths := slices.Sorted(func(yield func(string) bool) {
		for p := range tn.imports {
			if !yield(p) {
				return
			}
		}
	})
	// Standard library, others, this module: goimports' groups.
	group := func(p string) int {
		switch {
		case !strings.Contains(strings.Split(p, "/")[0], "."):
			return 0
		case strings.HasPrefix(p, "github.com/openledger/openledger/"):
			return 2
		}
		return 1
	}
	for i, p := range paths {
		if i > 0 && group(p) != group(paths[i-1]) {
			src.WriteString("\n")
		}
		fmt.Fprintf(&src, "\t%q\n", p)
	}
	src.WriteString(")\n")
	src.Write(body.Bytes())
	out, err := format.Source(src.Bytes())
	if err != nil {
		panic(fmt.Sprintf("generated code does not parse: %v\n%s", err, src.Bytes()))
	}
	return out
}

// params returns a method's parameters after the context as "name type"
// and their names; names come from the declaration.
func params(tn *typeNames, m rpcMethod, decl *ast.FuncDecl) (list, names []string) {
	var declared []string
	if decl != nil {
		for _, f := range decl.Type.Params.List {
			for _, n := range f.Names {
				declared = append(declared, n.Name)
			}
		}
	}
	for i := 1; i < m.fn.NumIn(); i++ {
		name := fmt.Sprintf("arg%d", i)
		if i < len(declared) && declared[i] != "_" {
			name = declared[i]
		}
		if slices.Contains([]string{"s", "c", "ctx", "events"}, name) {
			name += "Arg" // the receivers and the parameters the generated code adds
		}
		list = append(list, name+" "+tn.name(m.fn.In(i)))
		names = append(names, name)
	}
	return list, names
}

func genServices(t *testing.T, methods []rpcMethod, decls map[string]*ast.FuncDecl) []byte {
	tn := &typeNames{imports: map[string]bool{"context": true, "fmt": true}}
	var b bytes.Buffer
	b.WriteString(`
// service wraps a namespace's implementation for the JSON-RPC server: each
// method checks the permission table, then runs, then codes its error
// (serve).
func service(impl any, g guard) (any, error) {
	switch a := impl.(type) {
`)
	var types []reflect.Type
	for _, m := range methods {
		if !slices.Contains(types, m.recv) {
			types = append(types, m.recv)
		}
	}
	for _, typ := range types {
		fmt.Fprintf(&b, "\tcase %s:\n\t\treturn &%s{a, g}, nil\n", tn.name(typ), serviceName(typ))
	}
	b.WriteString("\t}\n\treturn nil, fmt.Errorf(\"no service for %T\", impl)\n}\n")
	for _, typ := range types {
		fmt.Fprintf(&b, "\n// %s serves %s through serve.\ntype %s struct {\n\tapi %s\n\tg   guard\n}\n",
			serviceName(typ), typ.Elem().Name(), serviceName(typ), tn.name(typ))
		for _, m := range methods {
			if m.recv != typ {
				continue
			}
			list, names := params(tn, m, decls[m.recv.Elem().Name()+"."+m.goName])
			call := fmt.Sprintf("s.api.%s(%s)", m.goName, strings.Join(append([]string{"ctx"}, names...), ", "))
			sig := fmt.Sprintf("func (s *%s) %s(%s)", serviceName(typ), m.goName, strings.Join(append([]string{"ctx context.Context"}, list...), ", "))
			if m.fn.NumOut() == 1 {
				fmt.Fprintf(&b, "\n%s error {\n\treturn serveErr(ctx, s.g, %q, func(ctx context.Context) error { return %s })\n}\n", sig, m.rpcName, call)
				continue
			}
			res := tn.name(m.fn.Out(0))
			fmt.Fprintf(&b, "\n%s (%s, error) {\n\treturn serve(ctx, s.g, %q, func(ctx context.Context) (%s, error) { return %s })\n}\n", sig, res, m.rpcName, res, call)
		}
	}
	return tn.file(&b)
}

func serviceName(recv reflect.Type) string {
	return strings.TrimSuffix(recv.Elem().Name(), "API") + "Service"
}

// clientName is the typed client's name of a method: the namespace and the
// Go name, with Go's initialisms.
func clientName(m rpcMethod) string {
	name := m.goName
	for _, w := range [][2]string{{"Id", "ID"}, {"Gc", "GC"}} {
		if name == w[0] {
			name = w[1]
		}
	}
	return strings.ToUpper(m.ns[:1]) + m.ns[1:] + name
}

func genClient(t *testing.T, methods []rpcMethod, decls map[string]*ast.FuncDecl) []byte {
	tn := &typeNames{imports: map[string]bool{"context": true}}
	var b bytes.Buffer
	for _, m := range methods {
		decl := decls[m.recv.Elem().Name()+"."+m.goName]
		if decl == nil {
			t.Fatalf("no declaration of %s.%s", m.recv, m.goName)
		}
		name := clientName(m)
		list, names := params(tn, m, decl)
		need, ok := methodPerms[m.rpcName]
		if !ok {
			t.Errorf("%s has no entry in methodPerms", m.rpcName)
		}
		doc := strings.TrimSpace(decl.Doc.Text())
		if rest, ok := strings.CutPrefix(doc, m.goName+" "); ok {
			doc = name + " " + rest
		} else {
			doc = name + ": " + doc
		}
		b.WriteString("\n")
		for line := range strings.SplitSeq(doc, "\n") {
			b.WriteString(strings.TrimRight("// "+line, " ") + "\n")
		}
		args := strings.Join(append([]string{fmt.Sprintf("%q", m.rpcName)}, names...), ", ")
		switch {
		case m.sub:
			ev, ok := subscriptionEvents[m.rpcName]
			if !ok {
				t.Fatalf("subscription %s has no event type in subscriptionEvents", m.rpcName)
			}
			tn.imports["github.com/ethereum/go-ethereum/rpc"] = true
			fmt.Fprintf(&b, "//\n// It subscribes with %s_subscribe(%q), which needs the %s permission.\n", m.ns, strings.TrimPrefix(m.rpcName, m.ns+"_"), need)
			list = append([]string{"ctx context.Context", "events chan<- " + tn.name(reflect.TypeOf(ev))}, list...)
			sub := strings.Join(append([]string{"ctx", fmt.Sprintf("%q", m.ns), "events", fmt.Sprintf("%q", strings.TrimPrefix(m.rpcName, m.ns+"_"))}, names...), ", ")
			fmt.Fprintf(&b, "func (c *API) %s(%s) (*rpc.ClientSubscription, error) {\n\treturn c.rpc.Subscribe(%s)\n}\n", name, strings.Join(list, ", "), sub)
		case m.fn.NumOut() == 1:
			fmt.Fprintf(&b, "//\n// It calls %s, which needs the %s permission.\n", m.rpcName, need)
			list = append([]string{"ctx context.Context"}, list...)
			fmt.Fprintf(&b, "func (c *API) %s(%s) error {\n\treturn c.rpc.CallContext(ctx, nil, %s)\n}\n", name, strings.Join(list, ", "), args)
		default:
			fmt.Fprintf(&b, "//\n// It calls %s, which needs the %s permission.\n", m.rpcName, need)
			list = append([]string{"ctx context.Context"}, list...)
			res := tn.name(m.fn.Out(0))
			fmt.Fprintf(&b, "func (c *API) %s(%s) (%s, error) {\n\treturn callRPC[%s](ctx, c.rpc, %s)\n}\n", name, strings.Join(list, ", "), res, res, args)
		}
	}
	return tn.file(&b)
}
