# bash completion for the hive tools: hive-init, hive-emit, hive-check, hive-runbook
#
# Installed as share/bash-completion/completions/hive-init (the other three names are links
# to it), where bash-completion loads it on first use; or source it from ~/.bashrc. Needs
# nothing from the bash-completion package.
#
# Completes: each tool's options (read from its --help), the values of --format, --report,
# --export, --status, --action and --platform, the event types for hive-emit's first
# operand (with events.types and events.platforms of .hive.yml when they are written as
# [a, b] lists), session ids from <root>/sessions/ for --session, worker names from
# <workers_dir>/ for --worker, and files and folders where a tool takes them.

# _hive_options TOOL: the options TOOL's --help lists, read from its option table (lines
# that start with a few spaces and a dash: "  -q, --quiet", "      --version"), so the
# completion offers what the installed tool takes.
_hive_options() {
	"$1" --help 2>/dev/null |
		sed -n 's/^ \{2,6\}\(-[-A-Za-z0-9]*\)\(, \(--[-A-Za-z0-9]*\)\)\{0,1\}.*/\1 \3/p'
}

_hive_event_types='deployment_configured infrastructure_provisioned pipeline_updated monitoring_added security_hardened incident_detected incident_responded incident_resolved metric_recorded'
_hive_platforms='AWS GCP Azure Docker K8s'

# _hive_word_opt NAME: the value given to option NAME on the command line so far (the
# last one wins, as in the tools), in either form: NAME VALUE or NAME=VALUE.
_hive_word_opt() {
	local i w value=
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == "$1" ]]; then
			if [[ ${COMP_WORDS[i + 1]-} == = ]]; then
				value=${COMP_WORDS[i + 2]-}
			else
				value=${COMP_WORDS[i + 1]-}
			fi
		elif [[ $w == "$1"=* ]]; then
			value=${w#*=}
		fi
	done
	printf '%s' "$value"
}

# The folder the tool will run in (-C DIR), and the top of its work tree.
_hive_dir() {
	local dir
	dir=$(_hive_word_opt -C)
	dir=${dir/#\~/$HOME}
	printf '%s' "${dir:-.}"
}

_hive_top() {
	local dir top
	dir=$(_hive_dir)
	top=$(git -C "$dir" rev-parse --show-toplevel 2>/dev/null) || top=$dir
	printf '%s' "$top"
}

# The configuration file: --config, HIVE_CONFIG, else .hive.yml at the top.
_hive_config_file() {
	local cfg
	cfg=$(_hive_word_opt --config)
	cfg=${cfg:-${HIVE_CONFIG:-}}
	[[ -n $cfg ]] || cfg=$(_hive_top)/.hive.yml
	printf '%s' "$cfg"
}

# _hive_config_value KEY: a top-level scalar `KEY: value` of the configuration.
_hive_config_value() {
	local cfg
	cfg=$(_hive_config_file)
	[[ -r $cfg ]] || return 0
	sed -n "s/^$1:[[:space:]]*['\"]\\{0,1\\}\\([^'\"#]*[^'\"#[:space:]]\\)['\"]\\{0,1\\}[[:space:]]*\\(#.*\\)\\{0,1\\}\$/\\1/p" "$cfg" | tail -n 1
}

# _hive_config_list KEY: the items of an indented `KEY: [a, b]` flow list (events.types,
# events.platforms). Block lists are not read: completion only offers, it never refuses.
_hive_config_list() {
	local cfg
	cfg=$(_hive_config_file)
	[[ -r $cfg ]] || return 0
	sed -n "s/^[[:space:]]\\{1,\\}$1:[[:space:]]*\\[\\([^]]*\\)\\].*/\\1/p" "$cfg" | tr ',' '\n' |
		sed "s/^[[:space:]'\"]*//; s/[[:space:]'\"]*\$//" | grep -v '^$'
}

# The hive root: --root, HIVE_ROOT, root: in the configuration, else Docs/hive-mind at the
# top of the work tree.
_hive_root() {
	local root top
	root=$(_hive_word_opt --root)
	root=${root/#\~/$HOME}
	if [[ -n $root ]]; then
		[[ $root == /* ]] || root=$(_hive_dir)/$root
	elif [[ -n ${HIVE_ROOT:-} ]]; then
		root=$HIVE_ROOT
	else
		top=$(_hive_top)
		root=$(_hive_config_value root)
		root=${root:-Docs/hive-mind}
		[[ $root == /* ]] || root=$top/$root
	fi
	printf '%s' "$root"
}

# Session ids: the folders under <root>/sessions/ whose names are valid ids.
_hive_sessions() {
	local root d
	root=$(_hive_root)/sessions
	[[ -d $root ]] || return 0
	for d in "$root"/*/; do
		d=${d%/}
		d=${d##*/}
		[[ $d =~ ^[A-Za-z0-9_][A-Za-z0-9._-]*$ ]] && printf '%s\n' "$d"
	done
}

_hive_workers() {
	local dir f
	dir=$(_hive_config_value workers_dir)
	dir=${dir:-.claude/agents}
	[[ $dir == /* ]] || dir=$(_hive_top)/$dir
	for f in "$dir"/*.md; do
		[[ -f $f ]] || continue
		f=${f##*/}
		printf '%s\n' "${f%.md}"
	done
}

# _hive_reply WORDS...: COMPREPLY from a list of words matching $cur.
_hive_reply() {
	local IFS=$'\n'
	# shellcheck disable=SC2207 # compgen's output, one word a line
	COMPREPLY=($(compgen -W "$*" -- "$cur"))
}

_hive_files() {
	local IFS=$'\n'
	# shellcheck disable=SC2207
	COMPREPLY=($(compgen -f -- "$cur"))
	compopt -o filenames 2>/dev/null
}

_hive_dirs() {
	local IFS=$'\n'
	# shellcheck disable=SC2207
	COMPREPLY=($(compgen -d -- "$cur"))
	compopt -o filenames 2>/dev/null
}

_hive() {
	local tool=${COMP_WORDS[0]##*/} cur=${COMP_WORDS[COMP_CWORD]} prev='' opts i w
	local operands=0 after_dashdash=0

	COMPREPLY=()
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# --opt=value: bash splits at '=' (COMP_WORDBREAKS), or keeps it in one word
	if [[ $cur == = && $prev == -* ]]; then
		cur=
	elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		cur=${cur#*=}
	fi

	case $tool in
	hive-init | hive-emit | hive-check | hive-runbook) ;;
	*) return 0 ;;
	esac

	# the value of the option before the cursor
	case $prev in
	--format)
		case $tool in
		hive-check) _hive_reply text json github junit codequality ;;
		hive-runbook) _hive_reply markdown json prometheus ;;
		esac
		return 0
		;;
	--report)
		_hive_reply runbook deployment incident infrastructure all
		return 0
		;;
	--export)
		_hive_reply sh github gitlab
		return 0
		;;
	--status)
		_hive_reply success failure
		return 0
		;;
	--action)
		[[ $tool == hive-emit ]] && _hive_reply create update delete
		return 0
		;;
	--platform)
		# shellcheck disable=SC2046,SC2086 # one platform a word
		[[ $tool == hive-emit ]] && _hive_reply $_hive_platforms $(_hive_config_list platforms)
		return 0
		;;
	--session)
		# shellcheck disable=SC2046
		_hive_reply $(_hive_sessions)
		return 0
		;;
	--worker)
		# shellcheck disable=SC2046
		[[ $tool == hive-init ]] && _hive_reply $(_hive_workers)
		return 0
		;;
	-C | --root)
		_hive_dirs
		return 0
		;;
	--config | -o | --output)
		_hive_files
		return 0
		;;
	--findings)
		_hive_files
		[[ -z $cur || $cur == - ]] && COMPREPLY+=(-)
		return 0
		;;
	--json)
		if [[ $cur == @* ]]; then
			local IFS=$'\n' f
			for f in $(compgen -f -- "${cur#@}"); do
				COMPREPLY+=("@$f")
			done
		fi
		return 0
		;;
	--resource)
		return 0
		;;
	esac

	# how many operands come before the cursor (options that take a value skip it)
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((after_dashdash)); then
			operands=$((operands + 1))
			continue
		fi
		case $w in
		--) after_dashdash=1 ;;
		-C | --root | --session | --config | --worker | --export | --resource | --action | \
			--platform | --status | --json | --format | --report | -o | --output | --findings)
			[[ ${COMP_WORDS[i + 1]-} == = ]] && ((i++))
			((i++))
			;;
		= | -?*) ;;
		*) operands=$((operands + 1)) ;;
		esac
	done

	if [[ $cur == -* ]] && ((!after_dashdash)); then
		# the command as typed (a path such as build/hive-check works too)
		opts=$(_hive_options "${COMP_WORDS[0]/#\~/$HOME}")
		# - is an operand: hive-emit's stream, hive-check's log on standard input
		[[ $tool == hive-check || ($tool == hive-emit && $operands -eq 0) ]] && opts="$opts -"
		# shellcheck disable=SC2086
		_hive_reply $opts
		return 0
	fi

	case $tool in
	hive-emit)
		if ((operands == 0)); then
			# shellcheck disable=SC2046,SC2086
			_hive_reply $_hive_event_types $(_hive_config_list types) -
		fi
		# after the type: KEY=VALUE operands, nothing to offer
		;;
	hive-check)
		_hive_files
		;;
	esac
	return 0
}

complete -F _hive hive-init hive-emit hive-check hive-runbook
