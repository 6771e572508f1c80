{#-
    DfE's absence measures (Pupil absence statistics: methodology), written once for every
    model that computes them: the attendance facts per term and the outcome aggregates per
    year. Thresholds are var('persistent_absence_percent') and var('severe_absence_percent').
-#}

{% macro absence_rate(sessions_missed, sessions_possible) -%}
    {#- Sessions missed as a percentage of possible sessions; none without possible sessions
        (DfE leaves such pupils out of absence statistics), so never a division by zero. -#}
    case
        when {{ sessions_possible }} > 0
            then 100 * cast({{ sessions_missed }} as double) / {{ sessions_possible }}
    end
{%- endmacro %}

{% macro missed_at_least(sessions_missed, sessions_possible, percent) -%}
    {#- Missed `percent`% or more of possible sessions, compared in whole sessions so that
        exactly the threshold counts (10 of 100 is 10%); none without possible sessions. -#}
    case
        when {{ sessions_possible }} > 0
            then {{ sessions_missed }} * 100 >= {{ sessions_possible }} * {{ percent }}
    end
{%- endmacro %}

{% macro is_persistently_absent(sessions_missed, sessions_possible) -%}
    {{ missed_at_least(sessions_missed, sessions_possible, var('persistent_absence_percent', 10)) }}
{%- endmacro %}

{% macro is_severely_absent(sessions_missed, sessions_possible) -%}
    {{ missed_at_least(sessions_missed, sessions_possible, var('severe_absence_percent', 50)) }}
{%- endmacro %}
