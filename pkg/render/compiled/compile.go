package compiled

import (
	"fmt"
	"reflect"
	"strings"
	"text/template"
	"text/template/parse"
)

// Closures a template compiles into. A node returns a control code for
// break and continue; a pipeline or command returns its value.
type (
	nodeFn func(s *state, dot reflect.Value) ctrl
	pipeFn func(s *state, dot reflect.Value) reflect.Value
	// cmdFn evaluates a command; final is the previous command's value,
	// present only for commands after the first (known when compiling).
	cmdFn func(s *state, dot, final reflect.Value) reflect.Value
	// argFn evaluates an argument already converted to its parameter type.
	argFn func(s *state, dot reflect.Value) reflect.Value
)

type ctrl uint8

const (
	ctrlNone ctrl = iota
	ctrlBreak
	ctrlContinue
)

// tmpl is a compiled template; body is set once compiled, which allows
// recursive templates.
type tmpl struct {
	name string
	body nodeFn
}

type compiler struct {
	set   *template.Template
	funcs template.FuncMap
	tmpls map[string]*tmpl
}

// declined is a compile-time refusal: the whole template stays with
// text/template.
type declined struct{ reason string }

func (c *compiler) decline(format string, args ...any) {
	panic(declined{fmt.Sprintf(format, args...)})
}

func (c *compiler) template(name string) (t *tmpl, err error) {
	defer func() {
		// Compiling is optional: whatever goes wrong here, even a bug,
		// leaves the template with text/template.
		if r := recover(); r != nil {
			if d, ok := r.(declined); ok {
				t, err = nil, fmt.Errorf("template %q: %s", name, d.reason)
			} else {
				t, err = nil, fmt.Errorf("template %q: internal error: %v", name, r)
			}
		}
	}()
	return c.lookup(name), nil
}

// lookup returns the compiled template of that name, compiling it first. A
// template that does not exist yields nil: calling it declines at run time,
// where text/template reports it.
func (c *compiler) lookup(name string) *tmpl {
	if t, ok := c.tmpls[name]; ok {
		return t
	}
	tt := c.set.Lookup(name)
	if tt == nil || tt.Tree == nil || tt.Root == nil {
		c.tmpls[name] = nil
		return nil
	}
	t := &tmpl{name: name}
	c.tmpls[name] = t
	t.body = c.list(tt.Root)
	return t
}

func (c *compiler) list(l *parse.ListNode) nodeFn {
	if l == nil {
		return func(*state, reflect.Value) ctrl { return ctrlNone }
	}
	var fns []nodeFn
	var text []byte // adjacent text nodes written at once
	flush := func() {
		if len(text) > 0 {
			b := text
			fns = append(fns, func(s *state, _ reflect.Value) ctrl { s.write(b); return ctrlNone })
			text = nil
		}
	}
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			text = append(text, n.Text...)
			continue
		case *parse.CommentNode:
			continue
		}
		flush()
		fns = append(fns, c.node(n))
	}
	flush()
	switch len(fns) {
	case 0:
		return func(*state, reflect.Value) ctrl { return ctrlNone }
	case 1:
		return fns[0]
	}
	return func(s *state, dot reflect.Value) ctrl {
		for _, f := range fns {
			if r := f(s, dot); r != ctrlNone {
				return r
			}
		}
		return ctrlNone
	}
}

func (c *compiler) node(n parse.Node) nodeFn {
	switch n := n.(type) {
	case *parse.ActionNode:
		pipe := c.pipeline(n.Pipe)
		if len(n.Pipe.Decl) > 0 {
			return func(s *state, dot reflect.Value) ctrl { pipe(s, dot); return ctrlNone }
		}
		return func(s *state, dot reflect.Value) ctrl {
			s.print(pipe(s, dot))
			return ctrlNone
		}
	case *parse.BreakNode:
		return func(*state, reflect.Value) ctrl { return ctrlBreak }
	case *parse.ContinueNode:
		return func(*state, reflect.Value) ctrl { return ctrlContinue }
	case *parse.IfNode:
		return c.ifOrWith(false, n.Pipe, n.List, n.ElseList)
	case *parse.WithNode:
		return c.ifOrWith(true, n.Pipe, n.List, n.ElseList)
	case *parse.ListNode:
		return c.list(n)
	case *parse.RangeNode:
		return c.rangeNode(n)
	case *parse.TemplateNode:
		return c.templateNode(n)
	case *parse.TextNode:
		b := n.Text
		return func(s *state, _ reflect.Value) ctrl { s.write(b); return ctrlNone }
	case *parse.CommentNode:
		return func(*state, reflect.Value) ctrl { return ctrlNone }
	}
	c.decline("node %s of type %T", n, n)
	return nil
}

func (c *compiler) ifOrWith(with bool, p *parse.PipeNode, list, elseList *parse.ListNode) nodeFn {
	pipe := c.pipeline(p)
	body := c.list(list)
	var elseBody nodeFn
	if elseList != nil {
		elseBody = c.list(elseList)
	}
	return func(s *state, dot reflect.Value) ctrl {
		mark := len(s.vars)
		val := pipe(s, dot)
		truth, ok := isTrue(indirectInterface(val))
		if !ok {
			s.decline()
		}
		r := ctrlNone
		switch {
		case truth && with:
			r = body(s, val)
		case truth:
			r = body(s, dot)
		case elseBody != nil:
			r = elseBody(s, dot)
		}
		s.vars = s.vars[:mark]
		return r
	}
}

func (c *compiler) templateNode(n *parse.TemplateNode) nodeFn {
	t := c.lookup(n.Name)
	var pipe pipeFn
	if n.Pipe != nil {
		pipe = c.pipeline(n.Pipe)
	}
	return func(s *state, dot reflect.Value) ctrl {
		if t == nil {
			s.decline()
		}
		var v reflect.Value
		if pipe != nil {
			v = pipe(s, dot)
		}
		s.call(t, v)
		return ctrlNone
	}
}

// pipeline compiles a pipeline: each command's value is the next one's
// final argument; an empty interface value is unwrapped after each command,
// as text/template does.
func (c *compiler) pipeline(p *parse.PipeNode) pipeFn {
	if p == nil {
		return func(*state, reflect.Value) reflect.Value { return reflect.Value{} }
	}
	cmds := make([]cmdFn, len(p.Cmds))
	for i, cmd := range p.Cmds {
		cmds[i] = c.command(cmd, i > 0)
	}
	var names []string
	for _, v := range p.Decl {
		names = append(names, v.Ident[0])
	}
	assign := p.IsAssign
	run := func(s *state, dot reflect.Value) reflect.Value {
		var v reflect.Value
		for _, cmd := range cmds {
			v = cmd(s, dot, v)
			if v.Kind() == reflect.Interface && v.Type().NumMethod() == 0 {
				v = v.Elem()
			}
		}
		return v
	}
	if len(cmds) == 1 {
		cmd := cmds[0]
		run = func(s *state, dot reflect.Value) reflect.Value {
			v := cmd(s, dot, reflect.Value{})
			if v.Kind() == reflect.Interface && v.Type().NumMethod() == 0 {
				v = v.Elem()
			}
			return v
		}
	}
	if len(names) == 0 {
		return run
	}
	return func(s *state, dot reflect.Value) reflect.Value {
		v := run(s, dot)
		for _, name := range names {
			if assign {
				s.setVar(name, v)
			} else {
				s.vars = append(s.vars, variable{name, v})
			}
		}
		return v
	}
}

// command compiles one command of a pipeline; hasFinal tells whether it
// receives the previous command's value as its last argument.
func (c *compiler) command(cmd *parse.CommandNode, hasFinal bool) cmdFn {
	first := cmd.Args[0]
	switch n := first.(type) {
	case *parse.FieldNode:
		return c.fieldChain(n.Ident, nil, cmd.Args, hasFinal)
	case *parse.ChainNode:
		recv := c.chainReceiver(n)
		return c.fieldChain(n.Field, recv, cmd.Args, hasFinal)
	case *parse.IdentifierNode:
		return c.function(n.Ident, cmd.Args[1:], hasFinal)
	case *parse.VariableNode:
		name := n.Ident[0]
		if len(n.Ident) == 1 {
			if len(cmd.Args) > 1 || hasFinal {
				return declineCmd
			}
			return func(s *state, _, _ reflect.Value) reflect.Value { return s.varValue(name) }
		}
		recv := func(s *state, _ reflect.Value) reflect.Value { return s.varValue(name) }
		return c.fieldChain(n.Ident[1:], recv, cmd.Args, hasFinal)
	}
	if len(cmd.Args) > 1 || hasFinal {
		return declineCmd // "can't give argument to non-function"
	}
	switch n := first.(type) {
	case *parse.PipeNode:
		pipe := c.pipeline(n)
		return func(s *state, dot, _ reflect.Value) reflect.Value { return pipe(s, dot) }
	case *parse.BoolNode:
		v := reflect.ValueOf(n.True)
		return func(*state, reflect.Value, reflect.Value) reflect.Value { return v }
	case *parse.DotNode:
		return func(_ *state, dot, _ reflect.Value) reflect.Value { return dot }
	case *parse.NumberNode:
		v, ok := idealConstant(n)
		if !ok {
			return declineCmd
		}
		return func(*state, reflect.Value, reflect.Value) reflect.Value { return v }
	case *parse.StringNode:
		v := reflect.ValueOf(n.Text)
		return func(*state, reflect.Value, reflect.Value) reflect.Value { return v }
	}
	return declineCmd // nil is not a command, and anything unknown
}

func declineCmd(s *state, _, _ reflect.Value) reflect.Value {
	s.decline()
	return reflect.Value{}
}

func declineArg(s *state, _ reflect.Value) reflect.Value {
	s.decline()
	return reflect.Value{}
}

// chainReceiver compiles the operand of (operand).Field as text/template
// evaluates it: an argument of no particular type.
func (c *compiler) chainReceiver(n *parse.ChainNode) argFn {
	switch n.Node.Type() {
	case parse.NodeNil:
		return declineArg
	case parse.NodeDot, parse.NodeField, parse.NodeVariable, parse.NodePipe, parse.NodeIdentifier, parse.NodeChain:
		return c.arg(n.Node, nil)
	}
	// Literals as chain operands make text/template fail; the parser
	// rejects most of them anyway.
	return declineArg
}

// idealConstant is the value of a number used as a command or an argument
// of type interface{}.
func idealConstant(n *parse.NumberNode) (reflect.Value, bool) {
	switch {
	case n.IsComplex:
		return reflect.ValueOf(n.Complex128), true
	case n.IsFloat && !isHexInt(n.Text) && !isRuneInt(n.Text) && strings.ContainsAny(n.Text, ".eEpP"):
		return reflect.ValueOf(n.Float64), true
	case n.IsInt:
		i := int(n.Int64)
		if int64(i) != n.Int64 {
			return reflect.Value{}, false
		}
		return reflect.ValueOf(i), true
	}
	return reflect.Value{}, false
}

func isRuneInt(s string) bool { return len(s) > 0 && s[0] == '\'' }

func isHexInt(s string) bool {
	return len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && !strings.ContainsAny(s, "pP")
}

// arg compiles an argument for a parameter of type typ (nil: no
// conversion), with text/template's conversion rules.
func (c *compiler) arg(n parse.Node, typ reflect.Type) argFn {
	switch n := n.(type) {
	case *parse.DotNode:
		return func(s *state, dot reflect.Value) reflect.Value { return s.validate(dot, typ) }
	case *parse.NilNode:
		if canBeNil(typ) {
			z := reflect.Zero(typ)
			return func(*state, reflect.Value) reflect.Value { return z }
		}
		return declineArg
	case *parse.FieldNode:
		f := c.fieldChain(n.Ident, nil, []parse.Node{n}, false)
		return func(s *state, dot reflect.Value) reflect.Value {
			return s.validate(f(s, dot, reflect.Value{}), typ)
		}
	case *parse.VariableNode:
		cmd := c.command(&parse.CommandNode{NodeType: parse.NodeCommand, Args: []parse.Node{n}}, false)
		return func(s *state, dot reflect.Value) reflect.Value {
			return s.validate(cmd(s, dot, reflect.Value{}), typ)
		}
	case *parse.PipeNode:
		pipe := c.pipeline(n)
		return func(s *state, dot reflect.Value) reflect.Value { return s.validate(pipe(s, dot), typ) }
	case *parse.IdentifierNode:
		f := c.function(n.Ident, nil, false)
		return func(s *state, dot reflect.Value) reflect.Value {
			return s.validate(f(s, dot, reflect.Value{}), typ)
		}
	case *parse.ChainNode:
		recv := c.chainReceiver(n)
		f := c.fieldChain(n.Field, recv, nil, false)
		return func(s *state, dot reflect.Value) reflect.Value {
			return s.validate(f(s, dot, reflect.Value{}), typ)
		}
	}
	if typ == nil {
		return declineArg
	}
	// A literal: its value for this parameter type is a constant.
	v, ok := literal(n, typ)
	if !ok {
		return declineArg
	}
	return func(*state, reflect.Value) reflect.Value { return v }
}

// literal converts a constant argument to typ as text/template does.
func literal(n parse.Node, typ reflect.Type) (reflect.Value, bool) {
	switch typ.Kind() {
	case reflect.Bool:
		if b, ok := n.(*parse.BoolNode); ok {
			v := reflect.New(typ).Elem()
			v.SetBool(b.True)
			return v, true
		}
	case reflect.String:
		if str, ok := n.(*parse.StringNode); ok {
			v := reflect.New(typ).Elem()
			v.SetString(str.Text)
			return v, true
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if num, ok := n.(*parse.NumberNode); ok && num.IsInt {
			v := reflect.New(typ).Elem()
			v.SetInt(num.Int64)
			return v, true
		}
	case reflect.Interface:
		if typ.NumMethod() == 0 {
			return emptyInterfaceLiteral(n)
		}
	case reflect.Struct:
		if typ == reflectValueType {
			if v, ok := emptyInterfaceLiteral(n); ok {
				return reflect.ValueOf(v), true
			}
		}
	}
	// Floats, complex and unsigned parameters take literals rarely enough
	// that text/template handles them.
	return reflect.Value{}, false
}

func emptyInterfaceLiteral(n parse.Node) (reflect.Value, bool) {
	switch n := n.(type) {
	case *parse.BoolNode:
		return reflect.ValueOf(n.True), true
	case *parse.NumberNode:
		return idealConstant(n)
	case *parse.StringNode:
		return reflect.ValueOf(n.Text), true
	}
	return reflect.Value{}, false
}
