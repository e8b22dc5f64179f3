# Completes lines in a real interactive zsh on a pseudo-terminal (zpty) and
# prints, for each, the candidates that reached compadd, sorted, on one line.
#   zsh -f md-zsh-complete.zsh FPATH-DIR PROGRAM-DIR LINE...
# Each LINE is typed, then TAB; readiness is the shell's own output (a
# marker, and the bracketed-paste switch ZLE prints when it reads a line),
# never a sleep.  The caller bounds the time with timeout(1).
zmodload zsh/zpty || exit 77
zpty z zsh -f -i
zpty -w z "PS1='%% '; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D; path=($2 \$path)"
zpty -w z 'compadd() { local -a hits; builtin compadd -O hits "$@"; print -rl -- "" "${(@)hits/#/CAND:}"; builtin compadd "$@" }'
zpty -w z "print -r -- READY''MARK"
zpty -r z line '*READYMARK*'
zpty -r z line $'*\e\\[?2004h*'
for typed in "${@[3,-1]}"; do
  zpty -n -w z "$typed"$'\t'
  zpty -n -w z $'\C-u'"print -r -- DONE''MARK"$'\n'
  zpty -r z out '*DONEMARK*'
  zpty -r z line $'*\e\\[?2004h*'
  local -a lines=(${(f)${out//$'\r'/}}) candidates
  candidates=(${${(M)lines:#CAND:*}#CAND:})
  print -r -- ${(j: :)${(ou)candidates}}
done
zpty -d z
