'use strict';
// The app's data layer: Sequelize on PostgreSQL, a table of its own, seeded at start.
const { readFileSync } = require('node:fs');
const { DataTypes, Op, Sequelize } = require('sequelize');

async function openDatabase() {
  const sequelize = new Sequelize(process.env.DATABASE_URL, { dialect: 'postgres', logging: false, pool: { max: 4 } });
  const Patient = sequelize.define(
    'Patient',
    {
      id: { type: DataTypes.STRING, primaryKey: true },
      mrn: { type: DataTypes.STRING, allowNull: false, unique: true },
      ssn: { type: DataTypes.STRING, allowNull: false, unique: true },
      given: DataTypes.STRING,
      family: DataTypes.STRING,
      birthDate: DataTypes.DATEONLY,
      gender: DataTypes.STRING,
      postalCode: DataTypes.STRING,
      city: DataTypes.STRING,
      phone: DataTypes.STRING,
    },
    { tableName: process.env.PATIENT_TABLE, timestamps: false },
  );
  await Patient.sync({ force: true });
  await Patient.bulkCreate(JSON.parse(readFileSync(process.env.SEED_FILE, 'utf8')));
  return { sequelize, Patient, Op };
}

const MRN_SYSTEM = 'urn:oid:2.16.840.1.113883.19.5';

/** A row as a FHIR R4 Patient. */
function toFhir(row) {
  return {
    resourceType: 'Patient',
    id: row.id,
    identifier: [{ system: MRN_SYSTEM, value: row.mrn }],
    name: [{ use: 'official', family: row.family, given: [row.given] }],
    telecom: [{ system: 'phone', value: row.phone }],
    gender: row.gender,
    birthDate: row.birthDate,
    address: [{ city: row.city, postalCode: row.postalCode }],
  };
}

/** A FHIR searchset Bundle, with the self link repeating the search as servers do. */
function searchset(base, query, rows) {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: rows.length,
    link: [{ relation: 'self', url: `${base}/fhir/Patient${query ? `?${query}` : ''}` }],
    entry: rows.map((r) => ({ fullUrl: `${base}/fhir/Patient/${r.id}`, resource: toFhir(r), search: { mode: 'match' } })),
  };
}

/** Search parameters the apps understand: identifier (MRN or SSN), _count. */
function searchWhere(Op, q) {
  const where = {};
  if (typeof q.identifier === 'string') where[Op.or] = [{ mrn: q.identifier }, { ssn: q.identifier }];
  return where;
}

/** A not-found error whose message names what was searched for, as application errors do. */
class NotFound extends Error {
  constructor(message) {
    super(message);
    this.status = 404;
  }
}

module.exports = { openDatabase, toFhir, searchset, searchWhere, NotFound };
