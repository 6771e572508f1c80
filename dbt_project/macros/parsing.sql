{#- One parsing step per kind of value, shared by every source that needs it. -#}

{% macro parse_date(column, format) -%}
    {#- `format` in strptime's notation (%Y-%m-%d); blank is null, anything else not in the
        format an error. Where the format has no time, a time after the date is set aside
        (13/10/2011 00:00 from a spreadsheet; TIME_AFTER_DATE in linkage_ops/ingest/reader.py,
        which the loader reads the same way). -#}
    {%- set value = "nullif(trim(" ~ column ~ "), '')" -%}
    {%- if '%H' not in format -%}
        {%- set value = regexp_replace_all(value, '[T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?$', '') -%}
    {%- endif -%}
    {{ date_from_string(value, format) }}
{%- endmacro %}

{% macro parse_timestamp(column, format) -%}
    {{ timestamp_from_string("nullif(trim(" ~ column ~ "), '')", format) }}
{%- endmacro %}

{% macro parse_blade_date(column) -%}
    {{ parse_date(column, '%Y-%b-%d %H:%M:%S') }}
{%- endmacro %}

{% macro parse_boolean(column) -%}
    (lower(trim({{ column }})) in ('true', '1'))
{%- endmacro %}

{% macro normalise_postcode(column) -%}
    {#- Upper case, one space before the three-character inward code: "hr1 2ab" -> "HR1 2AB". -#}
    {%- set letters_and_digits = regexp_replace_all('upper(' ~ column ~ ')', '[^A-Z0-9]', '') %}
    case
        when length(coalesce({{ letters_and_digits }}, '')) >= 5
            then
                left({{ letters_and_digits }}, length({{ letters_and_digits }}) - 3)
                || ' '
                || right({{ letters_and_digits }}, 3)
    end
{%- endmacro %}

{% macro normalise_nhs_number(column) -%}
    {#- Spaces and dashes removed, and the .0 of a number column written as decimals
        (NHS_DECIMAL_ZEROS in linkage_ops/identifiers.py). -#}
    {%- set spaced = regexp_replace_all('coalesce(' ~ column ~ ", '')", '[\\s-]', '') -%}
    nullif({{ regexp_replace_all(spaced, '[.]0+$', '') }}, '')
{%- endmacro %}

{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}
