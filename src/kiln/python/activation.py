"""Activation scripts of a virtual environment: bash/zsh, fish and csh.

Each puts the environment's scripts folder first on PATH, sets VIRTUAL_ENV and
VIRTUAL_ENV_PROMPT, prefixes the prompt unless VIRTUAL_ENV_DISABLE_PROMPT is set, and
defines `deactivate`, which undoes all of it.
"""

from __future__ import annotations

import shlex
from pathlib import Path

_SH = """\
# Source this file from bash or zsh: `source {scripts}/activate`
deactivate () {{
    if [ -n "${{_OLD_VIRTUAL_PATH:-}}" ]; then
        PATH="$_OLD_VIRTUAL_PATH"; export PATH; unset _OLD_VIRTUAL_PATH
    fi
    if [ -n "${{_OLD_VIRTUAL_PYTHONHOME:-}}" ]; then
        PYTHONHOME="$_OLD_VIRTUAL_PYTHONHOME"; export PYTHONHOME; unset _OLD_VIRTUAL_PYTHONHOME
    fi
    if [ -n "${{_OLD_VIRTUAL_PS1+set}}" ]; then
        PS1="$_OLD_VIRTUAL_PS1"; export PS1; unset _OLD_VIRTUAL_PS1
    fi
    unset VIRTUAL_ENV VIRTUAL_ENV_PROMPT
    hash -r 2>/dev/null
    if [ "${{1:-}}" != "nondestructive" ]; then
        unset -f deactivate
    fi
}}

deactivate nondestructive

VIRTUAL_ENV={root}
export VIRTUAL_ENV
VIRTUAL_ENV_PROMPT={prompt}
export VIRTUAL_ENV_PROMPT
_OLD_VIRTUAL_PATH="$PATH"
PATH="$VIRTUAL_ENV/{bin}:$PATH"
export PATH
if [ -n "${{PYTHONHOME:-}}" ]; then
    _OLD_VIRTUAL_PYTHONHOME="$PYTHONHOME"; unset PYTHONHOME
fi
if [ -z "${{VIRTUAL_ENV_DISABLE_PROMPT:-}}" ]; then
    _OLD_VIRTUAL_PS1="${{PS1:-}}"
    PS1="(${{VIRTUAL_ENV_PROMPT}}) ${{PS1:-}}"
    export PS1
fi
hash -r 2>/dev/null
"""

_FISH = """\
# Source this file from fish: `source {scripts}/activate.fish`
function deactivate -d "Leave the virtual environment"
    if set -q _OLD_VIRTUAL_PATH
        set -gx PATH $_OLD_VIRTUAL_PATH
        set -e _OLD_VIRTUAL_PATH
    end
    if set -q _OLD_VIRTUAL_PYTHONHOME
        set -gx PYTHONHOME $_OLD_VIRTUAL_PYTHONHOME
        set -e _OLD_VIRTUAL_PYTHONHOME
    end
    if set -q _OLD_FISH_PROMPT_OVERRIDE
        set -e _OLD_FISH_PROMPT_OVERRIDE
        if functions -q _old_fish_prompt
            functions -e fish_prompt
            functions -c _old_fish_prompt fish_prompt
            functions -e _old_fish_prompt
        end
    end
    set -e VIRTUAL_ENV
    set -e VIRTUAL_ENV_PROMPT
    if test "$argv[1]" != "nondestructive"
        functions -e deactivate
    end
end

deactivate nondestructive

set -gx VIRTUAL_ENV {root}
set -gx VIRTUAL_ENV_PROMPT {prompt}
set -gx _OLD_VIRTUAL_PATH $PATH
set -gx PATH "$VIRTUAL_ENV/{bin}" $PATH
if set -q PYTHONHOME
    set -gx _OLD_VIRTUAL_PYTHONHOME $PYTHONHOME
    set -e PYTHONHOME
end
if test -z "$VIRTUAL_ENV_DISABLE_PROMPT"
    functions -c fish_prompt _old_fish_prompt
    function fish_prompt
        set -l old_status $status
        printf "(%s) " $VIRTUAL_ENV_PROMPT
        echo "exit $old_status" | .
        _old_fish_prompt
    end
    set -gx _OLD_FISH_PROMPT_OVERRIDE "$VIRTUAL_ENV"
end
"""

_CSH = """\
# Source this file from csh or tcsh: `source {scripts}/activate.csh`
alias deactivate 'test $?_OLD_VIRTUAL_PATH != 0 && setenv PATH "$_OLD_VIRTUAL_PATH" && unset _OLD_VIRTUAL_PATH; rehash; test $?_OLD_VIRTUAL_PROMPT != 0 && set prompt="$_OLD_VIRTUAL_PROMPT" && unset _OLD_VIRTUAL_PROMPT; unsetenv VIRTUAL_ENV; unsetenv VIRTUAL_ENV_PROMPT; test "\\!:*" != "nondestructive" && unalias deactivate'

deactivate nondestructive

setenv VIRTUAL_ENV {root}
setenv VIRTUAL_ENV_PROMPT {prompt}
set _OLD_VIRTUAL_PATH="$PATH"
setenv PATH "$VIRTUAL_ENV/{bin}:$PATH"
set _OLD_VIRTUAL_PROMPT="$prompt"
if (! "$?VIRTUAL_ENV_DISABLE_PROMPT") then
    set prompt = "($VIRTUAL_ENV_PROMPT) $prompt"
endif
rehash
"""


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def write_activation_scripts(root: Path, scripts: Path, prompt: str) -> None:
    """Write ``activate``, ``activate.fish`` and ``activate.csh`` into ``scripts``."""
    bin_name = scripts.relative_to(root).as_posix()
    posix = {"root": shlex.quote(str(root)), "prompt": shlex.quote(prompt)}
    fish = {"root": _fish_quote(str(root)), "prompt": _fish_quote(prompt)}
    for name, template, quoted in (
        ("activate", _SH, posix),
        ("activate.fish", _FISH, fish),
        ("activate.csh", _CSH, posix),
    ):
        text = template.format(scripts=scripts, bin=bin_name, **quoted)
        (scripts / name).write_text(text, encoding="utf-8", newline="\n")
