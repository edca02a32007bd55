# tests/doc/run.sh: zsh's completion system stubbed, to ask completions/_pktscope what it
# offers. compadd prints its candidates (the shell would then keep those PREFIX begins);
# comp PREFIX WORDS... sets the words and the cursor as zsh does and runs the function.
compadd() { while [[ $1 == -* && $1 != -- ]]; do shift; done; [[ $1 == -- ]] && shift; print -l -- "$@"; }
compset() { :; }
_files() { print -- "(files)"; }
comp() {
	PREFIX=$1
	shift
	words=("$@")
	CURRENT=$#words
	source completions/_pktscope
}
