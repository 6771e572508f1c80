{#-
    Identifier checks in SQL, the same algorithms as linkage_ops/identifiers.py (see
    shared SOURCES.md); tests/test_pipeline.py compares the two on every record it builds.
-#}

{% macro is_valid_nhs_number(column) -%}
    {#- Ten digits; Modulus 11 with weights 10..2; a check of 10 is never valid. -#}
    coalesce(
        {{ matches_pattern(column, '[0-9]{10}') }}
        and (
            {%- for weight in range(10, 1, -1) %}
            try_cast(substr({{ column }}, {{ 11 - weight }}, 1) as integer) * {{ weight }}
            {{- " +" if not loop.last }}
            {%- endfor %}
        ) % 11 != 1
        and (11 - (
            {%- for weight in range(10, 1, -1) %}
            try_cast(substr({{ column }}, {{ 11 - weight }}, 1) as integer) * {{ weight }}
            {{- " +" if not loop.last }}
            {%- endfor %}
        ) % 11) % 11 = try_cast(substr({{ column }}, 10, 1) as integer),
        false
    )
{%- endmacro %}

{% macro is_valid_upn(column) -%}
    {#- A check letter, 11 digits, a digit or letter; the letter is LETTERS[sum % 23] where
        sum weights characters 2-13 by position and a final letter counts as its index. -#}
    {%- set letters = 'ABCDEFGHJKLMNPQRTUVWXYZ' -%}
    coalesce(
        {{ matches_pattern('upper(' ~ column ~ ')', '[A-Z][0-9]{11}[0-9ABCDEFGHJKLMNPQRTUVWXYZ]') }}
        and substr('{{ letters }}', 1 + (
            {%- for position in range(2, 13) %}
            try_cast(substr({{ column }}, {{ position }}, 1) as integer) * {{ position }} +
            {%- endfor %}
            case
                when {{ matches_pattern('substr(' ~ column ~ ', 13, 1)', '[0-9]') }}
                    then try_cast(substr({{ column }}, 13, 1) as integer)
                else instr('{{ letters }}', upper(substr({{ column }}, 13, 1))) - 1
            end * 13
        ) % 23, 1) = upper(substr({{ column }}, 1, 1)),
        false
    )
{%- endmacro %}
