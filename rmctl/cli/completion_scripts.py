"""The shell scripts that make <Tab> ask rmctl: one source for completions/ and ``--show-completion``.

Each script runs ``rmctl`` with ``_RMCTL_COMPLETE=complete_<shell>`` and
the words typed so far; a value (an option's, an argument's) is answered
without typer by :mod:`rmctl.cli.completefast`, commands and options by
typer's completion classes (``typer._completion_classes``), both with the
live values of :mod:`rmctl.cli.complete`.  They are typer's scripts
(``typer._completion_shared``) with what typer's get wrong:

- zsh: typer's ``_rmctl`` file only runs ``compdef`` when autoloaded from
  ``$fpath``, so the first <Tab> after installing it completes nothing (issue
  11 finding 11).  Here the file defines the completion function
  ``_rmctl`` and calls it when autoloaded (``$funcstack[1]`` is ``_rmctl``),
  else registers it (``source``/``eval``); kubectl's cobra-generated
  ``_kubectl`` does the same.
- bash: readline splits words at ``COMP_WORDBREAKS`` (``:`` and ``=``
  among them), so a PCI address ``0000:3b:00.0`` or ``2M=`` reached rmctl
  as three words.  The line up to the cursor (``COMP_LINE``,
  ``COMP_POINT``) is passed instead, and the part of the current word
  before the last ``:`` or ``=`` is taken off each answer (what
  bash-completion's ``__ltrim_colon_completions`` does); an answer ending
  in ``=`` (``2M=``) gets no space after it.

``rmctl --show-completion [bash|zsh|fish]`` prints these; tools/gen_completions.py
writes them to completions/ with a header.
"""

from __future__ import annotations

import os

PROG, VAR = "rmctl", "_RMCTL_COMPLETE"
SHELLS = ("bash", "zsh", "fish")

BASH = r"""
_rmctl_completion() {
    local IFS=$'\n' line="${COMP_LINE:0:COMP_POINT}" cur prefix n
    # the word under the cursor as typed (readline's COMP_WORDS split it at ':' and '=')
    cur="${line##*[[:space:]]}"
    n=$(( $(IFS=$' \t'; set -f; set -- $line; echo $#) ))
    [[ -z "$cur" ]] && n=$(( n + 1 ))
    COMPREPLY=( $( env COMP_WORDS="$line" COMP_CWORD=$(( n - 1 )) _RMCTL_COMPLETE=complete_bash $1 ) )
    prefix="${cur%"${cur##*[:=]}"}"
    if [[ -n "$prefix" && "${COMP_WORDS[COMP_CWORD]}" != "$cur" ]]; then
        COMPREPLY=( "${COMPREPLY[@]#"$prefix"}" )
    fi
    if [[ ${#COMPREPLY[@]} -gt 0 && "${COMPREPLY[0]}" == *= ]]; then
        compopt -o nospace 2>/dev/null
    fi
    return 0
}

complete -o default -F _rmctl_completion rmctl
"""

ZSH = r"""#compdef rmctl

_rmctl() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _RMCTL_COMPLETE=complete_zsh rmctl)
}

if [[ "$funcstack[1]" == "_rmctl" ]]; then
  # autoloaded from $fpath by compinit on the first <Tab>: complete it too
  _rmctl "$@"
else
  # sourced (eval "$(rmctl --show-completion zsh)"): register for rmctl
  compdef _rmctl rmctl
fi
"""

FISH = ('complete --command rmctl --no-files --arguments "(env _RMCTL_COMPLETE=complete_fish '
        '_TYPER_COMPLETE_FISH_ACTION=get-args _TYPER_COMPLETE_ARGS=(commandline -cp) rmctl)" '
        '--condition "env _RMCTL_COMPLETE=complete_fish _TYPER_COMPLETE_FISH_ACTION=is-args '
        '_TYPER_COMPLETE_ARGS=(commandline -cp) rmctl"\n')

SCRIPTS = {"bash": BASH, "zsh": ZSH, "fish": FISH}


def script(shell: str) -> str:
    """Return the completion script for ``shell`` (bash, zsh or fish), ending in one newline."""
    return SCRIPTS[shell].strip("\n") + "\n"


def detect_shell(environ=os.environ) -> str:
    """Return the user's shell from ``$SHELL`` (bash when it is not one of :data:`SHELLS`)."""
    name = os.path.basename(environ.get("SHELL", ""))
    return name if name in SHELLS else "bash"
