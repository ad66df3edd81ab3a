#!/bin/sh
# Helm post-renderer: reads the rendered manifests on stdin and writes them to
# stdout with every pod template injected. Arguments (Helm's
# --post-renderer-args) go to `inject-sidecar inject`: --config=FILE,
# -r REVISION, ... The binary is inject-sidecar on PATH, or $INJECT_SIDECAR.
#
# Helm 3 runs this file directly (--post-renderer PATH) and shows its stderr
# in the error. Helm 4 runs it as the postrenderer/v1 plugin of this
# directory and discards its stderr, so the messages are also written to
# Helm's own stderr. On failure nothing is written to stdout and the exit
# status is non-zero: Helm then fails instead of installing an empty release.
set -u
msgs=$(mktemp) || exit 1
trap 'rm -f "$msgs"' EXIT

"${INJECT_SIDECAR:-inject-sidecar}" inject -f - "$@" 2>"$msgs"
status=$?

if [ -s "$msgs" ]; then
	cat "$msgs" >&2
	# Helm 4 (it sets HELM_PLUGIN_DIR): write to the stderr of Helm, our
	# parent process, when it is a pipe or a terminal (Linux /proc). Not
	# when it is a regular file: Helm would then overwrite what we append.
	helm_stderr=/proc/$PPID/fd/2
	if [ -n "${HELM_PLUGIN_DIR:-}" ] && { [ -p "$helm_stderr" ] || [ -c "$helm_stderr" ]; }; then
		{ cat "$msgs" >>"$helm_stderr"; } 2>/dev/null || true
	fi
fi
exit "$status"
