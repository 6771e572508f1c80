{#-
    Where DuckDB and Spark SQL differ, one macro per difference (adapter.dispatch picks the
    `duckdb__` or `spark__` version by target type), so that every model is written once.
    Everything else the models use is SQL both engines accept: max_by, bool_or, FILTER
    (WHERE) on aggregates, standard UNPIVOT, GROUP BY ALL, LATERAL subqueries, `string` casts.
    Regular expressions are passed as plain text and quoted here: Spark string literals treat
    a backslash as an escape.
-#}

{% macro star_except(columns) -%}
    {{ return(adapter.dispatch('star_except')(columns)) }}
{%- endmacro %}

{% macro duckdb__star_except(columns) -%}
    {#- Every column but `columns` (a list), in order. DuckDB reads `* except` too, but the
        linter's DuckDB dialect knows only `* exclude`. -#}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__star_except(columns) -%}
    * except ({{ columns | join(', ') }})
{%- endmacro %}

{% macro date_from_strings(expression, format, date_only, forms) -%}
    {{ return(adapter.dispatch('date_from_strings')(expression, format, date_only, forms)) }}
{%- endmacro %}

{% macro duckdb__date_from_strings(expression, format, date_only, forms) -%}
    {#- `expression` in `format`, else `date_only` in the first of `forms` that reads it; a
        value none reads is an error. -#}
    cast(coalesce(
        try_strptime({{ expression }}, '{{ format }}'),
        strptime({{ date_only }}, ['{{ forms | join("', '") }}'])
    ) as date)
{%- endmacro %}

{% macro spark__date_from_strings(expression, format, date_only, forms) -%}
    {#- try_to_timestamp is null where a pattern does not read the value; the last, to_date in
        the layout's pattern, makes a value none reads an error (ANSI mode), as strptime. -#}
    coalesce(
        cast(try_to_timestamp({{ expression }}, '{{ java_datetime_pattern(format) }}') as date),
        {%- for form in forms %}
        cast(try_to_timestamp({{ date_only }}, '{{ java_datetime_pattern(form) }}') as date),
        {%- endfor %}
        to_date({{ expression }}, '{{ java_datetime_pattern(format) }}')
    )
{%- endmacro %}

{% macro timestamp_from_string(expression, format) -%}
    {{ return(adapter.dispatch('timestamp_from_string')(expression, format)) }}
{%- endmacro %}

{% macro duckdb__timestamp_from_string(expression, format) -%}
    {#- A timestamp without time zone, as the file gives it. -#}
    cast(strptime({{ expression }}, '{{ format }}') as timestamp)
{%- endmacro %}

{% macro spark__timestamp_from_string(expression, format) -%}
    {#- timestamp_ntz: no time zone, like DuckDB's timestamp. -#}
    to_timestamp_ntz({{ expression }}, '{{ java_datetime_pattern(format) }}')
{%- endmacro %}

{% macro java_datetime_pattern(format) -%}
    {#- strptime format -> Java pattern. Single letters read one or two digits, as strptime
        does; Spark reads month names without regard to case, as strptime does. -#}
    {%- set letters = {'%Y': 'yyyy', '%m': 'M', '%d': 'd', '%b': 'MMM', '%H': 'H', '%M': 'm',
        '%S': 's'} -%}
    {%- set pattern = namespace(text=format) -%}
    {%- for directive, letter in letters.items() -%}
        {%- set pattern.text = pattern.text.replace(directive, letter) -%}
    {%- endfor -%}
    {%- if '%' in pattern.text -%}
        {{ exceptions.raise_compiler_error("No Java pattern for the format '" ~ format ~ "'") }}
    {%- endif -%}
    {{ pattern.text }}
{%- endmacro %}

{% macro time_of_day(expression) -%}
    {{ return(adapter.dispatch('time_of_day')(expression)) }}
{%- endmacro %}

{% macro duckdb__time_of_day(expression) -%}
    {#- A time of day (14:20:00, 14:20, 7:05:00, 14:20:00.000: the forms the loader takes);
        anything else is an error. -#}
    cast({{ expression }} as time)
{%- endmacro %}

{% macro spark__time_of_day(expression) -%}
    {#- Spark 4.1's TIME type is a preview its Hive metastore cannot store: the time as
        HH:mm:ss text, read from the same forms (hours and minutes, then seconds or :00, any
        fraction left out) and checked the same way. -#}
    date_format(to_timestamp_ntz(concat(
        regexp_extract({{ expression }}, '^([0-9]{1,2}:[0-9]{2})', 1),
        ':',
        coalesce(nullif(regexp_extract({{ expression }}, '^[0-9]{1,2}:[0-9]{2}:([0-9]{2})', 1), ''), '00')
    ), 'H:m:s'), 'HH:mm:ss')
{%- endmacro %}

{% macro matches_pattern(expression, pattern) -%}
    {{ return(adapter.dispatch('matches_pattern')(expression, pattern)) }}
{%- endmacro %}

{% macro duckdb__matches_pattern(expression, pattern) -%}
    {#- The whole value matches the regular expression (null for null). -#}
    regexp_full_match({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__matches_pattern(expression, pattern) -%}
    {#- regexp_like matches anywhere: anchored to match the whole value. -#}
    regexp_like({{ expression }}, '^(?:{{ pattern | replace("\\", "\\\\") }})$')
{%- endmacro %}

{% macro regexp_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro duckdb__regexp_replace_all(expression, pattern, replacement) -%}
    {#- DuckDB replaces the first match unless told 'g'. -#}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__regexp_replace_all(expression, pattern, replacement) -%}
    {#- Spark replaces every match (its fourth argument is a position). -#}
    regexp_replace({{ expression }}, '{{ pattern | replace("\\", "\\\\") }}', '{{ replacement }}')
{%- endmacro %}

{% macro arg_max(value, ordering) -%}
    {{ return(adapter.dispatch('arg_max')(value, ordering)) }}
{%- endmacro %}

{% macro duckdb__arg_max(value, ordering) -%}
    {#- The value of the row with the greatest ordering, among rows with a value: DuckDB's
        arg_max skips nulls. -#}
    arg_max({{ value }}, {{ ordering }})
{%- endmacro %}

{% macro spark__arg_max(value, ordering) -%}
    {#- max_by would return a null value: a row without one gets no ordering, and max_by skips
        rows without an ordering. -#}
    max_by({{ value }}, case when {{ value }} is not null then {{ ordering }} end)
{%- endmacro %}

{% macro named_struct(fields) -%}
    {{ return(adapter.dispatch('named_struct')(fields)) }}
{%- endmacro %}

{% macro duckdb__named_struct(fields) -%}
    {#- A struct of (name, expression) pairs, compared field by field in order. -#}
    struct_pack(
        {%- for name, expression in fields %}
        {{ name }} := {{ expression }}{{ "," if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{% macro spark__named_struct(fields) -%}
    named_struct(
        {%- for name, expression in fields %}
        '{{ name }}', {{ expression }}{{ "," if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{% macro string_agg_distinct(expression, delimiter) -%}
    {{ return(adapter.dispatch('string_agg_distinct')(expression, delimiter)) }}
{%- endmacro %}

{% macro duckdb__string_agg_distinct(expression, delimiter) -%}
    {#- The distinct non-null values in order, joined by `delimiter`; null if there are none. -#}
    string_agg(distinct {{ expression }}, '{{ delimiter }}' order by {{ expression }})
{%- endmacro %}

{% macro spark__string_agg_distinct(expression, delimiter) -%}
    {#- (listagg(distinct ...) within group fails to plan beside other aggregates in 4.1.) -#}
    case
        when count({{ expression }}) > 0
            then array_join(array_sort(collect_set({{ expression }})), '{{ delimiter }}')
    end
{%- endmacro %}

{% macro years_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('years_between')(start_date, end_date)) }}
{%- endmacro %}

{% macro duckdb__years_between(start_date, end_date) -%}
    {#- Completed years from start to end (a birthday counts on the day; 29 February's on
        1 March). dbt.datediff counts year boundaries instead. -#}
    date_sub('year', {{ start_date }}, {{ end_date }})
{%- endmacro %}

{% macro spark__years_between(start_date, end_date) -%}
    timestampdiff(year, {{ start_date }}, {{ end_date }})
{%- endmacro %}

{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between')(start_date, end_date)) }}
{%- endmacro %}

{% macro duckdb__days_between(start_date, end_date) -%}
    {#- Days from start to end; null if either is null (dbt.datediff on Spark refuses nulls). -#}
    date_diff('day', {{ start_date }}, {{ end_date }})
{%- endmacro %}

{% macro spark__days_between(start_date, end_date) -%}
    datediff({{ end_date }}, {{ start_date }})
{%- endmacro %}
