// SPI from C++ (see lake_spi.hpp).
#include <deque>
#include <unordered_map>
#include <utility>

#include "lake_spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace rulake::lake {

using pg::pg_call;

SpiSession::SpiSession() : uncaught_at_start_(std::uncaught_exceptions()) {
    const int status = pg_call([] { return SPI_connect(); });
    if (status != SPI_OK_CONNECT) {
        throw pg::SqlError(ERRCODE_INTERNAL_ERROR, "SPI_connect failed: " + std::string(SPI_result_code_string(status)));
    }
    connected_ = true;
}

SpiSession::~SpiSession() {
    // While an exception unwinds, the error will end the (sub)transaction, which pops the SPI stack.
    if (connected_ && std::uncaught_exceptions() == uncaught_at_start_) SPI_finish();
}

void SpiSession::finish() {
    if (!connected_) return;
    connected_ = false;
    pg_call([] { SPI_finish(); });
}

namespace {
void check_status(int status, const char* what) {
    if (status < 0) {
        throw pg::SqlError(ERRCODE_INTERNAL_ERROR, std::string(what) + " failed: " + SPI_result_code_string(status));
    }
}
}  // namespace

uint64_t SpiSession::execute(SPIPlanPtr plan, const Datum* values, const char* nulls, bool read_only, long limit) {
    const int status = pg_call([&] {
        return SPI_execute_plan(plan, const_cast<Datum*>(values), nulls, read_only, limit);
    });
    check_status(status, "SPI_execute_plan");
    return SPI_processed;
}

uint64_t SpiSession::execute(const std::string& sql, bool read_only, long limit) {
    const int status = pg_call([&] { return SPI_execute(sql.c_str(), read_only, limit); });
    check_status(status, "SPI_execute");
    return SPI_processed;
}

uint64_t SpiSession::rows() const { return SPI_tuptable != nullptr ? SPI_processed : 0; }

int SpiSession::columns() const { return SPI_tuptable != nullptr ? SPI_tuptable->tupdesc->natts : 0; }

Oid SpiSession::column_type(int column) const {
    return TupleDescAttr(SPI_tuptable->tupdesc, column - 1)->atttypid;
}

Datum SpiSession::value(uint64_t row, int column, bool* is_null) const {
    if (SPI_tuptable == nullptr || row >= SPI_processed || column < 1 || column > SPI_tuptable->tupdesc->natts) {
        throw pg::SqlError(ERRCODE_INTERNAL_ERROR, "SPI result has no row " + std::to_string(row) + ", column " +
                                                       std::to_string(column));
    }
    return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, is_null);
}

bool SpiSession::is_null(uint64_t row, int column) const {
    bool null = false;
    value(row, column, &null);
    return null;
}

std::string SpiSession::text_value(uint64_t row, int column) const {
    bool null = false;
    const Datum d = value(row, column, &null);
    if (null) return {};
    const Oid type = column_type(column);
    if (type == TEXTOID || type == VARCHAROID) {
        ::text* t = pg_call([&] { return DatumGetTextPP(d); });
        return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    }
    const char* out = pg_call([&] {
        Oid output_function;
        bool is_varlena;
        getTypeOutputInfo(type, &output_function, &is_varlena);
        return OidOutputFunctionCall(output_function, d);
    });
    return std::string(out);
}

int64_t SpiSession::int64_value(uint64_t row, int column) const {
    bool null = false;
    const Datum d = value(row, column, &null);
    if (null) throw pg::SqlError(ERRCODE_INTERNAL_ERROR, "unexpected NULL in column " + std::to_string(column));
    switch (column_type(column)) {
        case INT2OID: return DatumGetInt16(d);
        case INT4OID: return DatumGetInt32(d);
        case INT8OID: return DatumGetInt64(d);
        case OIDOID:
        case REGCLASSOID:
        case REGROLEOID: return static_cast<int64_t>(DatumGetObjectId(d));
        default: throw pg::SqlError(ERRCODE_INTERNAL_ERROR, "column " + std::to_string(column) + " is not an integer");
    }
}

double SpiSession::float_value(uint64_t row, int column) const {
    bool null = false;
    const Datum d = value(row, column, &null);
    if (null) throw pg::SqlError(ERRCODE_INTERNAL_ERROR, "unexpected NULL in column " + std::to_string(column));
    switch (column_type(column)) {
        case FLOAT4OID: return DatumGetFloat4(d);
        case FLOAT8OID: return DatumGetFloat8(d);
        default: throw pg::SqlError(ERRCODE_INTERNAL_ERROR, "column " + std::to_string(column) + " is not a float");
    }
}

bool SpiSession::bool_value(uint64_t row, int column) const {
    bool null = false;
    const Datum d = value(row, column, &null);
    return !null && DatumGetBool(d);
}

namespace {

// Kept plans by query text and parameter types. Heap-allocated once and never destroyed (globals must
// be trivially destructible); the plans live in SPI's own memory until SPI_freeplan.
struct PlanCache {
    std::unordered_map<std::string, SPIPlanPtr> plans;
    std::deque<std::string> order;  // oldest first
};
PlanCache* plan_cache = nullptr;

std::string plan_key(const std::string& sql, const std::vector<Oid>& arg_types) {
    std::string key;
    for (Oid type : arg_types) key += std::to_string(type) + ",";
    return key + "|" + sql;
}

}  // namespace

SPIPlanPtr kept_plan(const std::string& sql, const std::vector<Oid>& arg_types) {
    if (plan_cache == nullptr) plan_cache = new PlanCache();
    std::string key = plan_key(sql, arg_types);
    auto found = plan_cache->plans.find(key);
    if (found != plan_cache->plans.end()) return found->second;

    SPIPlanPtr plan = pg_call([&] {
        return SPI_prepare_cursor(sql.c_str(), static_cast<int>(arg_types.size()), const_cast<Oid*>(arg_types.data()),
                                  CURSOR_OPT_GENERIC_PLAN);
    });
    if (plan == nullptr) {
        throw pg::SqlError(ERRCODE_INTERNAL_ERROR, std::string("SPI_prepare failed: ") + SPI_result_code_string(SPI_result));
    }
    const int status = pg_call([&] { return SPI_keepplan(plan); });
    check_status(status, "SPI_keepplan");
    if (plan_cache->order.size() >= kMaxKeptPlans) {
        const std::string oldest = std::move(plan_cache->order.front());
        plan_cache->order.pop_front();
        auto old = plan_cache->plans.find(oldest);
        if (old != plan_cache->plans.end()) {
            SPIPlanPtr old_plan = old->second;
            plan_cache->plans.erase(old);
            pg_call([&] { SPI_freeplan(old_plan); });
        }
    }
    plan_cache->order.push_back(key);
    plan_cache->plans.emplace(std::move(key), plan);
    return plan;
}

}  // namespace rulake::lake
